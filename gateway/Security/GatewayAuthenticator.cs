using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Mqtt;
using AccessLayer.Protocol.Mlp;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Security;

/// <summary>
/// The gateway's authentication chain, first that applies decides:
/// a validated TLS client certificate (X.509 identity), a user name known to <c>Mqtt:Users</c>
/// or the password file, a signed device token in the password field, and finally anonymous
/// access. With no credential source configured every client is accepted.
/// </summary>
internal sealed class GatewayAuthenticator : IMqttAuthenticator
{
    private readonly IOptionsMonitor<MqttOptions> _mqtt;
    private readonly TlsOptions _tls;
    private readonly AuthOptions _auth;
    private readonly TimeProvider _time;
    private readonly PasswordFileSource _passwords;
    private readonly Dictionary<uint, byte[]> _tokenKeys = [];

    public GatewayAuthenticator(IOptionsMonitor<MqttOptions> mqtt, IOptions<AuthOptions> auth, IOptions<TlsOptions> tls, PasswordFileSource passwords, TimeProvider time)
    {
        _mqtt = mqtt;
        _tls = tls.Value;
        _auth = auth.Value;
        _time = time;
        _passwords = passwords;

        foreach (var (id, key) in _auth.TokenKeys)
        {
            if (!uint.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var keyId))
            {
                throw new InvalidOperationException($"Auth:TokenKeys:{id}: the key id must be an unsigned integer.");
            }

            try
            {
                _tokenKeys[keyId] = Convert.FromBase64String(key);
            }
            catch (FormatException ex)
            {
                throw new InvalidOperationException($"Auth:TokenKeys:{id}: the key must be base64.", ex);
            }
        }
    }

    public ValueTask<MqttAuthenticationDecision> AuthenticateAsync(MqttAuthenticationContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Authenticate(context));

    private MqttAuthenticationDecision Authenticate(in MqttAuthenticationContext context)
    {
        // The TLS layer already checked the certificate's chain; here it only names the client.
        if (context.ClientCertificate is { } certificate && TlsCertificates.IdentityOf(certificate, _tls.CertificateIdentity) is { } subject)
        {
            return _tls.CertificateIdentityAs == CertificateIdentityTarget.ClientId
                ? new MqttAuthenticationDecision(MqttAuthenticationResult.Allowed, context.UserName ?? subject, "x509", subject)
                : new MqttAuthenticationDecision(MqttAuthenticationResult.Allowed, subject, "x509");
        }

        var users = _mqtt.CurrentValue.Users;
        var passwordFile = _passwords.Current;
        if (context.UserName is { } user)
        {
            if (users.TryGetValue(user, out var expected))
            {
                return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), context.Password.Span)
                    ? new MqttAuthenticationDecision(MqttAuthenticationResult.Allowed, user, "static")
                    : MqttAuthenticationDecision.Refused(MqttAuthenticationResult.BadUserNameOrPassword);
            }

            if (passwordFile is not null && passwordFile.Contains(user))
            {
                return passwordFile.Verify(user, context.Password.Span)
                    ? new MqttAuthenticationDecision(MqttAuthenticationResult.Allowed, user, "password")
                    : MqttAuthenticationDecision.Refused(MqttAuthenticationResult.BadUserNameOrPassword);
            }
        }

        if (_tokenKeys.Count > 0 && context.Password.Length is > 0 and <= MlpDeviceToken.MaxTokenLength)
        {
            return AuthenticateToken(context);
        }

        if (users.Count == 0 && passwordFile is null && _tokenKeys.Count == 0)
        {
            return new MqttAuthenticationDecision(MqttAuthenticationResult.Allowed, context.UserName, MqttAuthenticationDecision.UncheckedMethod);
        }

        if (context.UserName is null && context.Password.IsEmpty)
        {
            return _mqtt.CurrentValue.AllowAnonymous
                ? new MqttAuthenticationDecision(MqttAuthenticationResult.Allowed, null, "anonymous")
                : MqttAuthenticationDecision.Refused(MqttAuthenticationResult.NotAuthorized);
        }

        return MqttAuthenticationDecision.Refused(MqttAuthenticationResult.BadUserNameOrPassword);
    }

    private MqttAuthenticationDecision AuthenticateToken(in MqttAuthenticationContext context)
    {
        var token = Encoding.UTF8.GetString(context.Password.Span);
        if (!MlpDeviceToken.TryDecodeUnverified(token, out var unverified) || !_tokenKeys.TryGetValue(unverified.KeyId, out var key))
        {
            return MqttAuthenticationDecision.Refused(MqttAuthenticationResult.BadUserNameOrPassword);
        }

        if (MlpDeviceToken.Verify(token, key, _time.GetUtcNow(), out var payload) != MlpTokenStatus.Valid || payload is null)
        {
            return MqttAuthenticationDecision.Refused(MqttAuthenticationResult.BadUserNameOrPassword);
        }

        if (_auth.TokenBindsClientId && !string.Equals(payload.DeviceId, context.ClientId, StringComparison.Ordinal))
        {
            return MqttAuthenticationDecision.Refused(MqttAuthenticationResult.NotAuthorized);
        }

        return new MqttAuthenticationDecision(MqttAuthenticationResult.Allowed, payload.UserId.Length > 0 ? payload.UserId : payload.DeviceId, "token");
    }
}
