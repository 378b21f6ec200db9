namespace AccessLayer.SessionGrains.Mlp;

/// <summary>
/// An MLP device as the fleet knows it, keyed by device id: the node holding its session while it is
/// connected (none while it is offline), the epoch of that hold (a fencing token: every claim raises it,
/// a release carrying an older one is ignored) and the user it last authenticated as. Called per
/// connection event and per push API call, never per frame; deactivates after each call.
/// </summary>
public interface IMlpDeviceGrain : IGrainWithStringKey
{
    /// <summary>Makes <paramref name="node"/> the holder at a new epoch.</summary>
    Task<MlpDeviceClaim> ClaimAsync(string node, string userId);

    /// <summary>The device went offline under the hold at <paramref name="epoch"/>; false (and nothing changes) when a newer claim holds it.</summary>
    Task<bool> ReleaseAsync(long epoch);

    /// <summary>Where the device's session lives now.</summary>
    Task<MlpDeviceOwner> GetOwnerAsync();
}

/// <summary>What a claim made (<see cref="Epoch"/>) and found: the node that held the session before (null: offline or new) and its user.</summary>
[GenerateSerializer, Immutable]
public sealed record MlpDeviceClaim(
    [property: Id(0)] long Epoch,
    [property: Id(1)] string? PreviousNode,
    [property: Id(2)] string? PreviousUserId);

/// <summary>The node holding the device's session (null while it is offline) and the epoch of that hold.</summary>
[GenerateSerializer, Immutable]
public sealed record MlpDeviceOwner(
    [property: Id(0)] string? Node,
    [property: Id(1)] long Epoch);

/// <summary>
/// What the node holding a device answered to a push: <see cref="Held"/> false when it does not hold the
/// device's session (any more), else whether the device is connected and the store's outcome
/// (the gateway's <c>MlpEnqueueOutcome</c>, opaque to the fleet).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record MlpPushReply(
    [property: Id(0)] bool Held,
    [property: Id(1)] bool Online,
    [property: Id(2)] int Outcome);
