using System.Globalization;
using System.Text;
using AccessLayer.Protocol.Mlp;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Mlp.Auth;

/// <summary>
/// The default authenticator: HMAC-signed device tokens (docs/protocol.md §5.3) with keys from
/// <c>Mlp:TokenSecret</c> (key id 0) and <c>Mlp:TokenSecrets:{id}</c>; tokenless HELLOs only
/// when <c>Mlp:AllowAnonymous</c>. Allows 60 s of clock skew on expiry.
/// </summary>
internal sealed class MlpDeviceTokenAuthenticator(IOptionsMonitor<MlpOptions> options, TimeProvider time) : IMlpAuthenticator
{
    private static readonly TimeSpan AllowedSkew = TimeSpan.FromSeconds(60);

    public ValueTask<MlpAuthResult> AuthenticateAsync(MlpAuthRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var current = options.CurrentValue;
        if (string.IsNullOrEmpty(request.DeviceToken))
        {
            return ValueTask.FromResult(current.AllowAnonymous && !string.IsNullOrEmpty(request.DeviceId)
                ? MlpAuthResult.Success(request.DeviceId, string.Empty)
                : MlpAuthResult.Fail("a device token is required"));
        }

        if (!MlpDeviceToken.TryDecodeUnverified(request.DeviceToken, out var unverified))
            return ValueTask.FromResult(MlpAuthResult.Fail("malformed device token"));
        var key = FindKey(current, unverified.KeyId);
        if (key is null)
            return ValueTask.FromResult(MlpAuthResult.Fail($"unknown token key id {unverified.KeyId}"));

        var status = MlpDeviceToken.Verify(request.DeviceToken, key, time.GetUtcNow() - AllowedSkew, out var payload);
        if (status != MlpTokenStatus.Valid)
            return ValueTask.FromResult(MlpAuthResult.Fail("device token " + status.ToString().ToLowerInvariant()));
        if (!string.Equals(payload!.DeviceId, request.DeviceId, StringComparison.Ordinal))
            return ValueTask.FromResult(MlpAuthResult.Fail("the token was issued to another device"));
        return ValueTask.FromResult(MlpAuthResult.Success(payload.DeviceId, payload.UserId));
    }

    private static byte[]? FindKey(MlpOptions options, uint keyId)
    {
        if (keyId == 0 && !string.IsNullOrEmpty(options.TokenSecret))
            return Encoding.UTF8.GetBytes(options.TokenSecret);
        return options.TokenSecrets.TryGetValue(keyId.ToString(CultureInfo.InvariantCulture), out var secret) && !string.IsNullOrEmpty(secret)
            ? Encoding.UTF8.GetBytes(secret)
            : null;
    }
}
