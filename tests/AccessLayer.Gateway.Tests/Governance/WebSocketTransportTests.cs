using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AccessLayer.Gateway.Tests.Security;
using AccessLayer.Protocol.Mqtt;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Gateway.Tests.Governance;

/// <summary>MQTT over WebSocket and secure WebSocket on the HTTP ports: .NET's ClientWebSocket and mqtt.js.</summary>
public sealed class WebSocketTransportTests
{
    [Fact]
    public async Task A_WebSocket_client_negotiates_the_mqtt_subprotocol_and_exchanges_messages_with_a_TCP_client()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Limits:TcpUserTimeout=00:00:33");
        await using var ws = await WebSocketMqttClient.ConnectAsync(new Uri($"ws://127.0.0.1:{gateway.HttpPort}/mqtt"));
        Assert.Equal("mqtt", ws.Socket.SubProtocol);
        Assert.Equal(MqttReasonCode.Success, (await ws.ConnectMqttAsync("ws-device")).ReasonCode);

        var subscribe = new MqttSubscribePacket { PacketId = 1, Subscriptions = [new MqttTopicSubscription("cmd/ws-device", MqttQualityOfService.AtMostOnce)] };
        await ws.SendAsync(w => MqttSubscribeWriter.Write(w, MqttProtocolVersion.V500, subscribe));
        Assert.Equal(MqttPacketType.SubAck, (await ws.ReceiveAsync()).Type);

        Assert.True(gateway.Broker.TryGetClient("ws-device", out var connection));
        Assert.Equal("ws", connection.Listener);
        Assert.Equal(33_000, connection.ReadSocketState()?.UserTimeoutMilliseconds);

        await using var tcp = await gateway.ConnectClientAsync();
        await tcp.ConnectAsync("tcp-backend");
        await tcp.PublishAsync("cmd/ws-device", "over the bridge");
        var publish = (await ws.ReceiveAsync()).AsPublish(MqttProtocolVersion.V500);
        Assert.Equal("over the bridge", Encoding.UTF8.GetString(publish.Payload));
    }

    [Theory]
    [InlineData("4")]
    [InlineData("5")]
    public async Task mqtt_js_over_ws_round_trips_QoS_1_messages(string protocolVersion)
    {
        await using var gateway = await GovernedGateway.StartAsync();
        var result = await RunAgentAsync($"ws://127.0.0.1:{gateway.HttpPort}/mqtt", "js-" + protocolVersion, protocolVersion, "js/echo", 20);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("\"received\":20", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task mqtt_js_over_wss_validates_the_gateway_certificate_against_the_CA()
    {
        using var pki = TestPki.Create();
        await using var gateway = await GovernedGateway.StartAsync(pki.Settings("None"));
        var result = await RunAgentAsync($"wss://localhost:{gateway.HttpTlsPort}/mqtt", "js-wss", "5", "js/secure", 5, pki.CaPath);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("\"received\":5", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_secure_WebSocket_client_presents_a_device_certificate_that_names_it()
    {
        using var pki = TestPki.Create();
        await using var gateway = await GovernedGateway.StartAsync(pki.Settings("Require"));
        await using var ws = await WebSocketMqttClient.ConnectAsync(new Uri($"wss://localhost:{gateway.HttpTlsPort}/mqtt"), configure: options =>
        {
            options.ClientCertificates = [pki.Client];
            options.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(pki.Ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return certificate is X509Certificate2 server && chain.Build(server);
            };
        });
        Assert.Equal(MqttReasonCode.Success, (await ws.ConnectMqttAsync("wss-device")).ReasonCode);
        Assert.True(gateway.Broker.TryGetClient("wss-device", out var connection));
        Assert.Equal("wss", connection.Listener);
        Assert.Equal(TestPki.ClientCommonName, connection.Identity);
    }

    [Fact]
    public async Task A_plain_GET_on_the_WebSocket_path_is_refused_with_400()
    {
        await using var gateway = await GovernedGateway.StartAsync();
        using var response = await gateway.Device.GetAsync("/mqtt");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_text_frame_ends_the_connection()
    {
        await using var gateway = await GovernedGateway.StartAsync();
        await using var ws = await WebSocketMqttClient.ConnectAsync(new Uri($"ws://127.0.0.1:{gateway.HttpPort}/mqtt"));
        await ws.ConnectMqttAsync("texter");
        await ws.Socket.SendAsync(Encoding.UTF8.GetBytes("hello"), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Null(await ws.TryReceiveAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, ws.Socket.CloseStatus);
        await GovernedGateway.WaitUntilAsync(() => !gateway.Broker.TryGetClient("texter", out _), "texter gone");
    }

    [Fact]
    public async Task WebSocket_upgrades_count_against_the_listener_cap()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Limits:MaxConnectionsPerListener:ws=1");
        await using var first = await WebSocketMqttClient.ConnectAsync(new Uri($"ws://127.0.0.1:{gateway.HttpPort}/mqtt"));
        await first.ConnectMqttAsync("first");

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => WebSocketMqttClient.ConnectAsync(new Uri($"ws://127.0.0.1:{gateway.HttpPort}/mqtt")));
        Assert.Contains("503", refused.Message, StringComparison.Ordinal);
        Assert.Equal(1, await gateway.MetricAsync("accesslayer_gateway_connections_refused_total", ("reason", "listener_full"), ("listener", "ws")));
    }

    private static Task<PeerResult> RunAgentAsync(string url, string clientId, string version, string topic, int count, string? ca = null)
    {
        var js = Path.Combine(RepositoryRoot.Path, "tests", "js");
        Assert.True(Directory.Exists(Path.Combine(js, "node_modules", "mqtt")), "mqtt.js is missing: run 'npm ci' in tests/js (test.sh does).");
        List<string> args = ["ws-agent.mjs", url, clientId, version, topic, count.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        if (ca is not null)
        {
            args.Add(ca);
        }

        return PeerProcess.RunAsync("node", args, TimeSpan.FromSeconds(30), js);
    }
}
