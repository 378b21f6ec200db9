using System.Text;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Mqtt;
using AccessLayer.Gateway.Security;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AccessLayer.Gateway.Tests.Security;

public sealed class GatewayAuthenticatorTests
{
    private static readonly byte[] Key = Encoding.ASCII.GetBytes("0123456789abcdef0123456789abcdef");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private GatewayAuthenticator Create(MqttOptions? mqtt = null, AuthOptions? auth = null, TlsOptions? tls = null)
    {
        var authOptions = Options.Create(auth ?? new AuthOptions());
        return new(new StaticOptionsMonitor<MqttOptions>(mqtt ?? new MqttOptions()), authOptions, Options.Create(tls ?? new TlsOptions()), new PasswordFileSource(authOptions), _time);
    }

    private static MqttAuthenticationContext Context(string clientId, string? user = null, string? password = null, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null) =>
        new(clientId, user, password is null ? ReadOnlyMemory<byte>.Empty : Encoding.UTF8.GetBytes(password), null, certificate);

    private string Token(string deviceId, string userId = "", uint keyId = 1, TimeSpan? lifetime = null) =>
        MlpDeviceToken.Create(new DeviceTokenPayload
        {
            DeviceId = deviceId,
            UserId = userId,
            KeyId = keyId,
            IssuedAtUnixS = _time.GetUtcNow().ToUnixTimeSeconds(),
            ExpiresAtUnixS = (_time.GetUtcNow() + (lifetime ?? TimeSpan.FromHours(1))).ToUnixTimeSeconds(),
        }, Key);

    private static AuthOptions WithTokenKey(bool binds = true) => new() { TokenKeys = { ["1"] = Convert.ToBase64String(Key) }, TokenBindsClientId = binds };

    [Fact]
    public async Task With_no_credential_source_everyone_is_allowed_under_the_name_they_give()
    {
        var decision = await Create().AuthenticateAsync(Context("c", "whoever", "x"), default);
        Assert.Equal((MqttAuthenticationResult.Allowed, "whoever", "none"), (decision.Result, decision.Identity, decision.Method));
    }

    [Fact]
    public async Task Static_users_need_their_password_and_anonymous_access_follows_the_setting()
    {
        var mqtt = new MqttOptions { Users = { ["alice"] = "pw" }, AllowAnonymous = false };
        var authenticator = Create(mqtt);
        Assert.Equal(MqttAuthenticationResult.Allowed, (await authenticator.AuthenticateAsync(Context("c", "alice", "pw"), default)).Result);
        Assert.Equal(MqttAuthenticationResult.BadUserNameOrPassword, (await authenticator.AuthenticateAsync(Context("c", "alice", "nope"), default)).Result);
        Assert.Equal(MqttAuthenticationResult.BadUserNameOrPassword, (await authenticator.AuthenticateAsync(Context("c", "mallory", "pw"), default)).Result);
        Assert.Equal(MqttAuthenticationResult.NotAuthorized, (await authenticator.AuthenticateAsync(Context("c"), default)).Result);
    }

    [Fact]
    public async Task A_password_file_user_is_verified_against_its_hash()
    {
        var path = Path.GetTempFileName();
        await File.WriteAllTextAsync(path, "carol:" + PasswordHash.Create("c-pw", 500) + "\n");
        try
        {
            var authenticator = Create(auth: new AuthOptions { PasswordFile = path });
            var ok = await authenticator.AuthenticateAsync(Context("c", "carol", "c-pw"), default);
            Assert.Equal((MqttAuthenticationResult.Allowed, "carol", "password"), (ok.Result, ok.Identity, ok.Method));
            Assert.Equal(MqttAuthenticationResult.BadUserNameOrPassword, (await authenticator.AuthenticateAsync(Context("c", "carol", "x"), default)).Result);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_valid_device_token_in_the_password_names_its_user()
    {
        var decision = await Create(auth: WithTokenKey()).AuthenticateAsync(Context("dev-7", "ignored", Token("dev-7", "u-42")), default);
        Assert.Equal((MqttAuthenticationResult.Allowed, "u-42", "token"), (decision.Result, decision.Identity, decision.Method));

        var noUser = await Create(auth: WithTokenKey()).AuthenticateAsync(Context("dev-7", null, Token("dev-7")), default);
        Assert.Equal("dev-7", noUser.Identity);
    }

    [Fact]
    public async Task Expired_forged_and_unknown_key_tokens_are_refused()
    {
        var authenticator = Create(auth: WithTokenKey());
        var expiring = Token("dev-7", lifetime: TimeSpan.FromMinutes(1));
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(MqttAuthenticationResult.BadUserNameOrPassword, (await authenticator.AuthenticateAsync(Context("dev-7", null, expiring), default)).Result);

        var token = Token("dev-7");
        var forged = token[..^2] + (token[^2] == 'A' ? "BA" : "AA");
        Assert.Equal(MqttAuthenticationResult.BadUserNameOrPassword, (await authenticator.AuthenticateAsync(Context("dev-7", null, forged), default)).Result);
        Assert.Equal(MqttAuthenticationResult.BadUserNameOrPassword, (await authenticator.AuthenticateAsync(Context("dev-7", null, Token("dev-7", keyId: 9)), default)).Result);
        Assert.Equal(MqttAuthenticationResult.BadUserNameOrPassword, (await authenticator.AuthenticateAsync(Context("dev-7", null, "not-a-token"), default)).Result);
    }

    [Fact]
    public async Task A_token_for_another_device_is_not_authorized_unless_binding_is_off()
    {
        Assert.Equal(MqttAuthenticationResult.NotAuthorized, (await Create(auth: WithTokenKey()).AuthenticateAsync(Context("dev-8", null, Token("dev-7")), default)).Result);
        Assert.Equal(MqttAuthenticationResult.Allowed, (await Create(auth: WithTokenKey(binds: false)).AuthenticateAsync(Context("dev-8", null, Token("dev-7")), default)).Result);
    }

    [Fact]
    public async Task A_client_certificate_names_the_user_or_the_client_id()
    {
        using var pki = TestPki.Create();
        var asUser = await Create().AuthenticateAsync(Context("anything", certificate: pki.Client), default);
        Assert.Equal((MqttAuthenticationResult.Allowed, "device-1", "x509", (string?)null), (asUser.Result, asUser.Identity, asUser.Method, asUser.ClientId));

        var asClientId = await Create(tls: new TlsOptions { CertificateIdentityAs = CertificateIdentityTarget.ClientId }).AuthenticateAsync(Context("anything", certificate: pki.Client), default);
        Assert.Equal("device-1", asClientId.ClientId);

        var subject = await Create(tls: new TlsOptions { CertificateIdentity = CertificateIdentitySource.Subject }).AuthenticateAsync(Context("anything", certificate: pki.Client), default);
        Assert.Equal(pki.Client.Subject, subject.Identity);

        // Identity off: the certificate only secured the transport; credentials decide.
        var off = await Create(new MqttOptions { Users = { ["a"] = "b" }, AllowAnonymous = false }, tls: new TlsOptions { CertificateIdentity = CertificateIdentitySource.None })
            .AuthenticateAsync(Context("anything", certificate: pki.Client), default);
        Assert.Equal(MqttAuthenticationResult.NotAuthorized, off.Result);
    }

    private sealed class StaticOptionsMonitor<T>(T value) : IOptionsMonitor<T>
    {
        public T CurrentValue => value;

        public T Get(string? name) => value;

        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }
}
