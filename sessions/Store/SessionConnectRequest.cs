namespace AccessLayer.Sessions.Store;

/// <summary>What a CONNECT asks of the session layer.</summary>
public sealed record SessionConnectRequest
{
    public required string ClientId { get; init; }

    /// <summary>Clean Start (5.0) / Clean Session (3.1.1): discard any existing session.</summary>
    public bool CleanStart { get; init; }

    /// <summary>Seconds the session outlives the connection; see <see cref="SessionExpiry"/>.</summary>
    public uint SessionExpiryInterval { get; init; }

    public WillMessage? Will { get; init; }

    /// <summary>The gateway node holding the connection (the session directory of a fleet).</summary>
    public string? NodeId { get; init; }

    /// <summary>
    /// The authenticated identity opening the session; null for an anonymous client or when the gateway checks no credentials.
    /// A session owned by another identity (connected, or offline and not expired) is not opened: see <see cref="SessionOpenResult.OwnedByAnotherIdentity"/>.
    /// </summary>
    public string? Owner { get; init; }
}
