namespace AccessLayer.SessionGrains.Forwarding;

/// <summary>Bytes from a peer or from Redis that do not decode: truncated, corrupt, over a limit, or of an unknown format version.</summary>
public sealed class FleetCodecException : Exception
{
    public FleetCodecException()
        : base("The bytes are not a valid fleet codec unit.")
    {
    }

    public FleetCodecException(string message)
        : base(message)
    {
    }

    public FleetCodecException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
