namespace AccessLayer.Gateway.Mlp.Auth;

/// <summary>What a resume ticket vouches for: an authenticated device, its user and the session to resume, until it expires.</summary>
public sealed record MlpResumeTicket(string DeviceId, string UserId, string SessionId, DateTimeOffset ExpiresAt);
