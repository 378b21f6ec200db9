namespace AccessLayer.SessionGrains.Sessions;

/// <summary>What a session grain persists (Redis in a fleet): small, rewritten whole per connection event.</summary>
[GenerateSerializer]
public sealed class SessionGrainState
{
    [Id(0)]
    public string? Node { get; set; }

    [Id(1)]
    public long Epoch { get; set; }

    [Id(2)]
    public string? Owner { get; set; }

    [Id(3)]
    public byte[]? Subscriptions { get; set; }

    /// <summary>The session expiry interval the owner's CONNECT asked for, seconds (0: the session ends with its connection).</summary>
    [Id(4)]
    public uint ExpiryInterval { get; set; }

    /// <summary>The owner's will (<see cref="Forwarding.FleetCodec.EncodeWill"/>), until published or cancelled.</summary>
    [Id(5)]
    public byte[]? Will { get; set; }
}
