namespace AccessLayer.Protocol.Mlp;

/// <summary>
/// The peer broke the MLP spec. <see cref="StreamId"/> 0 means a connection error (answer
/// with GOAWAY and close); otherwise only that request failed (answer with ERROR).
/// </summary>
public sealed class MlpProtocolException : Exception
{
    public MlpProtocolException()
        : this(MlpErrorCode.ProtocolError, "MLP protocol error")
    {
    }

    public MlpProtocolException(string message)
        : this(MlpErrorCode.ProtocolError, message)
    {
    }

    public MlpProtocolException(string message, Exception innerException)
        : this(MlpErrorCode.ProtocolError, message, innerException)
    {
    }

    public MlpProtocolException(MlpErrorCode code, string message, uint streamId = 0)
        : base(message)
    {
        Code = code;
        StreamId = streamId;
    }

    public MlpProtocolException(MlpErrorCode code, string message, Exception innerException, uint streamId = 0)
        : base(message, innerException)
    {
        Code = code;
        StreamId = streamId;
    }

    public MlpErrorCode Code { get; }

    public uint StreamId { get; }

    public bool IsConnectionError => StreamId == 0;
}
