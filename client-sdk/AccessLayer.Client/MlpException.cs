using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Client;

/// <summary>An MLP-level failure: a GOAWAY (connection), an ERROR (one call), or a lost link.</summary>
public class MlpException : Exception
{
    public MlpException()
        : this(MlpErrorCode.InternalError, "MLP failure")
    {
    }

    public MlpException(string message)
        : this(MlpErrorCode.InternalError, message)
    {
    }

    public MlpException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = MlpErrorCode.InternalError;
    }

    public MlpException(MlpErrorCode code, string message, bool notProcessed = false, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
        NotProcessed = notProcessed;
    }

    public MlpErrorCode Code { get; }

    /// <summary>The server certainly did not process the request (above GOAWAY's last_stream_id): safe to resend.</summary>
    public bool NotProcessed { get; }

    /// <summary>For UNKNOWN_DICTIONARY: the id the server lacks.</summary>
    public uint DictionaryId { get; init; }

    public uint RetryAfterMs { get; init; }

    /// <summary>The link under the call failed (lost, found dead, closed by an error GOAWAY): a call the server may or may not have processed.</summary>
    internal bool LinkLost { get; init; }
}

/// <summary>A typed call answered with a non-2xx status.</summary>
public sealed class MlpStatusException : MlpException
{
    public MlpStatusException()
        : this(500, "MLP call failed", null)
    {
    }

    public MlpStatusException(string message)
        : this(500, message, null)
    {
    }

    public MlpStatusException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public MlpStatusException(int status, string message, MlpResponse? response)
        : base(MlpErrorCode.NoError, message)
    {
        Status = status;
        Response = response;
    }

    public int Status { get; }

    public MlpResponse? Response { get; }
}
