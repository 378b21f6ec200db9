using System.Security.Authentication;
using AccessLayer.Gateway.Tests.Governance;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Security;

/// <summary>Swapping the server certificate on disk: new handshakes see the new one, a client connected before stays connected.</summary>
public sealed class TlsCertificateStoreTests
{
    [Fact]
    public async Task A_swapped_certificate_is_picked_up_by_the_file_watch_for_new_handshakes_while_an_old_TLS_client_stays_connected()
    {
        using var pki = TestPki.Create();
        using var next = TestPki.Create();
        await using var gateway = await GovernedGateway.StartAsync([.. pki.Settings("None"), "--SecurityReload:PollInterval=00:00:01", "--SecurityReload:Debounce=00:00:01"]);
        var port = gateway.MqttTlsPort;

        using var subscriber = PeerProcess.Start("mosquitto_sub",
            ["-h", "127.0.0.1", "-p", TlsListenerTests.Port(port), "-i", "old-tls", "--cafile", pki.CaPath, "-t", "after/swap", "-C", "1", "-W", "30"]);
        await TlsListenerTests.WaitForSubscriptionAsync(gateway, "old-tls");
        Assert.True(await TlsProbe.HandshakeAsync(port, SslProtocols.Tls13, pki.Ca));
        Assert.False(await TlsProbe.HandshakeAsync(port, SslProtocols.Tls13, next.Ca));

        File.Copy(next.ServerCertificatePath, pki.ServerCertificatePath, overwrite: true);
        File.Copy(next.ServerKeyPath, pki.ServerKeyPath, overwrite: true);

        // The watch runs on the fake clock: move it a second at a time until a handshake shows the new certificate.
        var swapped = false;
        for (var i = 0; i < 30 && !swapped; i++)
        {
            gateway.Time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(50);
            swapped = await TlsProbe.HandshakeAsync(port, SslProtocols.Tls13, next.Ca);
        }

        Assert.True(swapped, "no handshake with the new certificate");
        Assert.False(await TlsProbe.HandshakeAsync(port, SslProtocols.Tls13, pki.Ca));

        // The client from before the swap kept its connection and is still served.
        Assert.True(gateway.Broker.TryGetClient("old-tls", out _));
        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("publisher");
        await publisher.PublishAsync("after/swap", "still here", MqttQualityOfService.AtLeastOnce, packetId: 1);
        Assert.Equal(MqttPacketType.PubAck, (await publisher.ReceiveAsync()).Type);
        var result = await subscriber.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("still here", result.Stdout.Trim());
    }

    [Fact]
    public async Task A_key_that_does_not_fit_the_new_certificate_keeps_the_old_pair()
    {
        using var pki = TestPki.Create();
        using var next = TestPki.Create();
        await using var gateway = await GovernedGateway.StartAsync([.. pki.Settings("None"), "--SecurityReload:Watch=false"]);

        File.Copy(next.ServerCertificatePath, pki.ServerCertificatePath, overwrite: true);
        var response = await gateway.Admin.PostAsync("/api/v1/admin/reload", null);
        Assert.Equal(System.Net.HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("\"failed\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(await TlsProbe.HandshakeAsync(gateway.MqttTlsPort, SslProtocols.Tls13, pki.Ca));

        File.Copy(next.ServerKeyPath, pki.ServerKeyPath, overwrite: true);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await gateway.Admin.PostAsync("/api/v1/admin/reload", null)).StatusCode);
        Assert.True(await TlsProbe.HandshakeAsync(gateway.MqttTlsPort, SslProtocols.Tls13, next.Ca));
    }
}
