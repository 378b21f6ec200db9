namespace AccessLayer.Sessions.Store;

/// <summary>
/// A connection used a <see cref="SessionToken"/> that no longer owns its session: another
/// connection took it over, or it ended. The gateway closes that connection with
/// <see cref="ReasonCode"/> (DISCONNECT 0x8E, Session taken over).
/// </summary>
public sealed class SessionTakenOverException : InvalidOperationException
{
    public const byte SessionTakenOverReasonCode = 0x8E;

    public SessionTakenOverException()
        : this(string.Empty)
    {
    }

    public SessionTakenOverException(string clientId)
        : base($"Client '{clientId}' no longer owns its session (taken over or ended).")
    {
        ClientId = clientId;
    }

    public SessionTakenOverException(string message, Exception innerException)
        : base(message, innerException)
    {
        ClientId = string.Empty;
    }

    public string ClientId { get; }

    public byte ReasonCode => SessionTakenOverReasonCode;
}
