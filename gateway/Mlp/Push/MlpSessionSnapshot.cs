namespace AccessLayer.Gateway.Mlp.Push;

/// <summary>
/// A device's session taken out of one node's store to continue on another (a fleet takeover, or a
/// device going offline whose session waits in Redis): its id and user, the sequence counter, the pushes
/// sent and not acknowledged (with their numbers) and the pushes waiting, oldest first.
/// </summary>
public sealed record MlpSessionSnapshot(
    string? SessionId,
    string UserId,
    ulong LastSequence,
    IReadOnlyList<(ulong Sequence, MlpPushMessage Message)> Unacked,
    IReadOnlyList<MlpPushMessage> Pending)
{
    /// <summary>Every push it holds, unacknowledged first, as plain pushes (what a session that cannot resume it gets).</summary>
    public IEnumerable<MlpPushMessage> AllPushes => Unacked.Select(u => u.Message).Concat(Pending);
}
