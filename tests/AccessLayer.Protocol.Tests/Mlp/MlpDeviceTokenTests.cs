using System.Text;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;

namespace AccessLayer.Protocol.Tests.Mlp;

public sealed class MlpDeviceTokenTests
{
    private static readonly byte[] Key = Encoding.ASCII.GetBytes("test-key-0123456789abcdef0123456");
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_712_000_000);

    private static DeviceTokenPayload Payload(long expires = 1_712_003_600) =>
        new() { DeviceId = "device-1", UserId = "user-9", ExpiresAtUnixS = expires, IssuedAtUnixS = 1_711_990_000, KeyId = 3 };

    [Fact]
    public void Created_token_verifies_and_returns_its_payload()
    {
        var token = MlpDeviceToken.Create(Payload(), Key);

        Assert.Equal(MlpTokenStatus.Valid, MlpDeviceToken.Verify(token, Key, Now, out var payload));
        Assert.Equal(Payload(), payload);
        Assert.Matches("^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}$", token);
    }

    [Fact]
    public void Token_is_base64url_payload_dot_base64url_hmac_of_the_first_part()
    {
        var token = MlpDeviceToken.Create(Payload(), Key);
        var dot = token.IndexOf('.');
        var mac = System.Security.Cryptography.HMACSHA256.HashData(Key, Encoding.ASCII.GetBytes(token[..dot]));

        Assert.Equal(System.Buffers.Text.Base64Url.EncodeToString(mac), token[(dot + 1)..]);
        Assert.Equal(Payload(), DeviceTokenPayload.Parser.ParseFrom(System.Buffers.Text.Base64Url.DecodeFromChars(token.AsSpan(0, dot))));
    }

    [Fact]
    public void Token_signed_with_another_key_is_a_bad_signature()
    {
        var token = MlpDeviceToken.Create(Payload(), Encoding.ASCII.GetBytes("another key"));
        Assert.Equal(MlpTokenStatus.BadSignature, MlpDeviceToken.Verify(token, Key, Now, out var payload));
        Assert.Null(payload);
    }

    [Fact]
    public void Tampered_payload_is_a_bad_signature()
    {
        var token = MlpDeviceToken.Create(Payload(), Key);
        var forged = MlpDeviceToken.Create(new DeviceTokenPayload(Payload()) { UserId = "admin" }, Key);
        var spliced = forged[..forged.IndexOf('.')] + token[token.IndexOf('.')..];

        Assert.Equal(MlpTokenStatus.BadSignature, MlpDeviceToken.Verify(spliced, Key, Now, out _));
    }

    [Fact]
    public void Token_at_or_after_its_expiry_is_expired()
    {
        var token = MlpDeviceToken.Create(Payload(expires: Now.ToUnixTimeSeconds()), Key);
        Assert.Equal(MlpTokenStatus.Expired, MlpDeviceToken.Verify(token, Key, Now, out _));
        Assert.Equal(MlpTokenStatus.Valid, MlpDeviceToken.Verify(token, Key, Now.AddSeconds(-1), out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("nodot")]
    [InlineData(".abc")]
    [InlineData("abc.")]
    [InlineData("a.b.c")]
    [InlineData("abc.###")]
    [InlineData("abc.AAAA")]
    public void Malformed_tokens_are_reported_as_malformed(string token)
    {
        Assert.Equal(MlpTokenStatus.Malformed, MlpDeviceToken.Verify(token, Key, Now, out _));
    }

    [Fact]
    public void TryDecodeUnverified_exposes_the_key_id_for_key_selection()
    {
        Assert.True(MlpDeviceToken.TryDecodeUnverified(MlpDeviceToken.Create(Payload(), Key), out var payload));
        Assert.Equal(3u, payload.KeyId);
        Assert.False(MlpDeviceToken.TryDecodeUnverified("%%%.abc", out _));
    }
}
