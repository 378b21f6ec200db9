namespace AccessLayer.SessionGrains.Sessions;

/// <summary>What a claim of a session record found and made.</summary>
internal sealed record SessionRecordClaim(long Epoch, string? PreviousNode, bool OwnedByAnotherIdentity, byte[]? Subscriptions);
