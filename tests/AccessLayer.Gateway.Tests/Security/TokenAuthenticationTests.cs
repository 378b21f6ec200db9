using System.Text;
using AccessLayer.Gateway.Tests.Governance;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Security;

/// <summary>MLP device tokens carried in the MQTT password field, end to end.</summary>
public sealed class TokenAuthenticationTests
{
    private static readonly byte[] Key = Encoding.ASCII.GetBytes("an HMAC key of thirty-two bytes!");

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task A_signed_token_connects_and_an_expired_one_gets_bad_credentials(MqttProtocolVersion version)
    {
        await using var gateway = await GovernedGateway.StartAsync($"--Auth:TokenKeys:3={Convert.ToBase64String(Key)}", "--Mqtt:AllowAnonymous=false");
        var now = gateway.Time.GetUtcNow();
        string Token(TimeSpan lifetime) => MlpDeviceToken.Create(new DeviceTokenPayload { DeviceId = "meter-1", UserId = "tenant-a", KeyId = 3, ExpiresAtUnixS = (now + lifetime).ToUnixTimeSeconds() }, Key);

        await using var good = await gateway.ConnectClientAsync();
        var accepted = await good.ConnectAsync(new MqttConnectPacket { ProtocolVersion = version, ClientId = "meter-1", UserName = "meter-1", Password = Encoding.ASCII.GetBytes(Token(TimeSpan.FromHours(1))), CleanStart = true });
        Assert.Equal(MqttReasonCode.Success, accepted.ReasonCode);
        Assert.True(gateway.Broker.TryGetClient("meter-1", out var connection));
        Assert.Equal(("tenant-a", "token"), (connection.Identity, connection.AuthenticationMethod));

        await using var stale = await gateway.ConnectClientAsync();
        var refused = await stale.ConnectAsync(new MqttConnectPacket { ProtocolVersion = version, ClientId = "meter-1b", UserName = "meter-1", Password = Encoding.ASCII.GetBytes(Token(TimeSpan.FromSeconds(-1))), CleanStart = true });
        Assert.Equal(MqttReasonCode.BadUserNameOrPassword, refused.ReasonCode);
    }
}
