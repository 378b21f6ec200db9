namespace AccessLayer.Bots.Client;

/// <summary>A bot connection attempt failed; <see cref="Kind"/> is the error kind reported (for example <c>socket_ConnectionRefused</c>).</summary>
public sealed class BotConnectException : Exception
{
    public BotConnectException(string kind)
        : base($"Connect failed: {kind}")
    {
        Kind = kind;
    }

    public BotConnectException()
        : this("unknown")
    {
    }

    public BotConnectException(string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = "unknown";
    }

    public string Kind { get; }
}
