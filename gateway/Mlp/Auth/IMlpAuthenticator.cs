using System.Net;
using AccessLayer.Protocol.Mlp.Envelopes;

namespace AccessLayer.Gateway.Mlp.Auth;

/// <summary>
/// Decides whether a HELLO (or an HTTP fallback request) may proceed. Called only when no valid resume
/// ticket was presented: a ticket proves an earlier successful authentication and skips this.
/// </summary>
public interface IMlpAuthenticator
{
    ValueTask<MlpAuthResult> AuthenticateAsync(MlpAuthRequest request, CancellationToken cancellationToken);
}

/// <summary>What the client presented: the HELLO's device id and token (HTTP fallback: the bearer token).</summary>
public sealed record MlpAuthRequest(string DeviceId, string DeviceToken, EndPoint? RemoteEndPoint, Hello? Hello);

/// <summary>The outcome; on failure <see cref="Reason"/> goes into the GOAWAY AUTH_FAILED message.</summary>
public sealed record MlpAuthResult(bool Succeeded, string DeviceId, string UserId, string Reason)
{
    public static MlpAuthResult Success(string deviceId, string userId) => new(true, deviceId, userId, string.Empty);

    public static MlpAuthResult Fail(string reason) => new(false, string.Empty, string.Empty, reason);
}
