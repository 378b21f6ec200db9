namespace AccessLayer.Gateway.Mlp.Push;

/// <summary>
/// MLP sessions and their push queues (docs/protocol.md §10): per device, a sequence counter, the
/// pushes sent and not acknowledged, and the pushes still waiting. In memory for one node now; a
/// Redis implementation can replace it for a fleet. Every method is safe to call concurrently.
/// </summary>
public interface IMlpSessionStore
{
    /// <summary>
    /// Opens the device's session for a new connection. <paramref name="resumeSessionId"/> (from a valid
    /// resume ticket) resumes that session when it is still the device's; <paramref name="lastProcessedSequence"/>
    /// then acknowledges everything up to it. Any older connection's handle goes stale.
    /// </summary>
    ValueTask<MlpSessionOpenResult> OpenAsync(string deviceId, string userId, string? resumeSessionId, ulong lastProcessedSequence, CancellationToken cancellationToken = default);

    /// <summary>Queues a sequenced push for a device, whether it is connected or not.</summary>
    ValueTask<MlpEnqueueOutcome> EnqueueAsync(string deviceId, MlpPushMessage push, CancellationToken cancellationToken = default);

    /// <summary>Numbers and returns waiting pushes while fewer than <paramref name="window"/> are unacknowledged.</summary>
    ValueTask<IReadOnlyList<MlpSequencedPush>> TakeAsync(MlpSessionHandle session, int window, CancellationToken cancellationToken = default);

    /// <summary>Cumulative ACK: drops every unacknowledged push up to <paramref name="sequence"/>; returns how many.</summary>
    ValueTask<int> AcknowledgeAsync(MlpSessionHandle session, ulong sequence, CancellationToken cancellationToken = default);

    /// <summary>Devices that have authenticated as <paramref name="userId"/>, for pushes addressed to a user.</summary>
    ValueTask<IReadOnlyList<string>> GetUserDevicesAsync(string userId, CancellationToken cancellationToken = default);

    /// <summary>Pushes held for the device: sent-unacknowledged plus waiting.</summary>
    ValueTask<int> CountAsync(string deviceId, CancellationToken cancellationToken = default);
}
