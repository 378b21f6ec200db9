using System.Globalization;
using System.Security.Authentication;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Tests.Governance;
using AccessLayer.Protocol.Mqtt;
using Microsoft.Extensions.DependencyInjection;

namespace AccessLayer.Gateway.Tests.Security;

/// <summary>MQTT over TLS with mosquitto clients: TLS 1.2 and 1.3, mutual TLS, certificate identity, refusals in the handshake.</summary>
public sealed class TlsListenerTests
{
    private static readonly TimeSpan PeerTimeout = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData("Tls12", "Tls12")]
    [InlineData("Tls12, Tls13", "Tls13")]
    public async Task A_device_certificate_from_the_trusted_CA_connects_and_its_CN_becomes_its_identity(string serverProtocols, string negotiated)
    {
        using var pki = TestPki.Create();
        await using var gateway = await GovernedGateway.StartAsync(
        [
            .. pki.Settings("Require"), $"--Tls:Protocols={serverProtocols}",
            "--Acl:Default=Deny", "--Acl:Rules:0=allow * subscribe devices/%u/#", "--Acl:Rules:1=allow client:backend publish devices/#",
        ]);

        using var subscriber = PeerProcess.Start("mosquitto_sub",
        [
            "-h", "127.0.0.1", "-p", Port(gateway.MqttTlsPort), "-V", "mqttv5", "-i", "sub-tls",
            "--cafile", pki.CaPath, "--cert", pki.ClientCertificatePath, "--key", pki.ClientKeyPath,
            "-t", "devices/device-1/cmd", "-C", "1", "-W", "15",
        ]);
        await WaitForSubscriptionAsync(gateway, "sub-tls");

        Assert.True(gateway.Broker.TryGetClient("sub-tls", out var connection));
        Assert.Equal("tls", connection.Listener);
        Assert.Equal(TestPki.ClientCommonName, connection.Identity);
        Assert.Equal("x509", connection.AuthenticationMethod);
        Assert.Equal(negotiated, connection.TlsProtocol?.ToString());
        Assert.Contains("CN=device-1", connection.ClientCertificate?.Subject, StringComparison.Ordinal);

        await using var backend = await gateway.ConnectClientAsync();
        await backend.ConnectAsync("backend");
        await backend.PublishAsync("devices/device-1/cmd", "reboot", MqttQualityOfService.AtLeastOnce, packetId: 1);
        Assert.Equal(MqttReasonCode.Success, (await backend.ReceiveAsync()).AsPubAck(MqttProtocolVersion.V500).ReasonCode);

        var result = await subscriber.WaitAsync(PeerTimeout);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("reboot", result.Stdout.Trim());
    }

    [Fact]
    public async Task A_client_certificate_from_an_unknown_CA_is_refused_in_the_handshake()
    {
        using var pki = TestPki.Create();
        await using var gateway = await GovernedGateway.StartAsync(pki.Settings("Require"));

        var result = await PeerProcess.RunAsync("mosquitto_pub",
        [
            "-h", "127.0.0.1", "-p", Port(gateway.MqttTlsPort), "-i", "rogue", "-t", "t", "-m", "x",
            "--cafile", pki.CaPath, "--cert", pki.RogueClientCertificatePath, "--key", pki.RogueClientKeyPath,
        ], PeerTimeout);

        Assert.NotEqual(0, result.ExitCode);
        Assert.False(gateway.Broker.TryGetClient("rogue", out _));

        // A failed handshake gives its admission slot back.
        var governor = gateway.Services.GetRequiredService<ConnectionGovernor>();
        await GovernedGateway.WaitUntilAsync(() => governor.ActiveConnections == 0, "slot released");
    }

    [Fact]
    public async Task Require_mode_refuses_a_client_without_a_certificate()
    {
        using var pki = TestPki.Create();
        await using var gateway = await GovernedGateway.StartAsync(pki.Settings("Require"));

        var result = await PeerProcess.RunAsync("mosquitto_pub",
            ["-h", "127.0.0.1", "-p", Port(gateway.MqttTlsPort), "-i", "nocert", "-t", "t", "-m", "x", "--cafile", pki.CaPath], PeerTimeout);

        Assert.NotEqual(0, result.ExitCode);
        Assert.False(gateway.Broker.TryGetClient("nocert", out _));
    }

    [Fact]
    public async Task Allow_mode_lets_a_client_without_a_certificate_authenticate_with_a_hashed_password()
    {
        using var pki = TestPki.Create();
        var passwords = Path.Combine(pki.Directory, "passwords");
        await File.WriteAllTextAsync(passwords, "# test users\nalice:" + AccessLayer.Gateway.Security.PasswordHash.Create("s3cret", iterations: 1000) + "\n");
        await using var gateway = await GovernedGateway.StartAsync([.. pki.Settings("Allow"), $"--Auth:PasswordFile={passwords}", "--Mqtt:AllowAnonymous=false"]);
        var good = await PeerProcess.RunAsync("mosquitto_pub",
            ["-h", "127.0.0.1", "-p", Port(gateway.MqttTlsPort), "-i", "alice-1", "-u", "alice", "-P", "s3cret", "-t", "in/alice", "-m", "hi", "--cafile", pki.CaPath], PeerTimeout);
        var bad = await PeerProcess.RunAsync("mosquitto_pub",
            ["-h", "127.0.0.1", "-p", Port(gateway.MqttTlsPort), "-i", "alice-2", "-u", "alice", "-P", "wrong", "-t", "in/alice", "-m", "hi", "--cafile", pki.CaPath], PeerTimeout);

        Assert.True(good.ExitCode == 0, good.ToString());
        Assert.NotEqual(0, bad.ExitCode);
    }

    [Fact]
    public async Task The_certificate_identity_can_replace_the_client_id()
    {
        using var pki = TestPki.Create();
        await using var gateway = await GovernedGateway.StartAsync([.. pki.Settings("Require"), "--Tls:CertificateIdentityAs=ClientId"]);

        using var subscriber = PeerProcess.Start("mosquitto_sub",
        [
            "-h", "127.0.0.1", "-p", Port(gateway.MqttTlsPort), "-V", "mqttv5", "-i", "whatever-it-says",
            "--cafile", pki.CaPath, "--cert", pki.ClientCertificatePath, "--key", pki.ClientKeyPath,
            "-t", "x", "-C", "1", "-W", "10",
        ]);
        await WaitForSubscriptionAsync(gateway, TestPki.ClientCommonName);

        Assert.False(gateway.Broker.TryGetClient("whatever-it-says", out _));
        Assert.True(gateway.Broker.TryGetClient(TestPki.ClientCommonName, out var connection));
        Assert.Equal("tls", connection.Listener);
    }

    [Fact]
    public async Task A_TLS_1_3_only_listener_refuses_a_TLS_1_2_client()
    {
        using var pki = TestPki.Create();
        await using var gateway = await GovernedGateway.StartAsync([.. pki.Settings("None"), "--Tls:Protocols=Tls13"]);

        Assert.False(await TlsProbe.HandshakeAsync(gateway.MqttTlsPort, SslProtocols.Tls12, pki.Ca));
        Assert.True(await TlsProbe.HandshakeAsync(gateway.MqttTlsPort, SslProtocols.Tls13, pki.Ca));
    }

    internal static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Waits until the client is connected and has a subscription in its session (mosquitto_sub subscribes right after CONNACK).</summary>
    internal static async Task WaitForSubscriptionAsync(GovernedGateway gateway, string clientId)
    {
        for (var i = 0; i < 1000; i++)
        {
            if (gateway.Broker.TryGetClient(clientId, out _) && await gateway.Broker.Sessions.GetAsync(clientId) is { Subscriptions.Count: > 0 })
            {
                return;
            }

            await Task.Delay(20);
        }

        Assert.Fail($"{clientId} did not connect and subscribe in time.");
    }
}
