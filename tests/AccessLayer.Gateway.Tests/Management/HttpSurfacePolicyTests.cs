using System.Net;
using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Tests.Governance;
using AccessLayer.Gateway.Tests.Security;

namespace AccessLayer.Gateway.Tests.Management;

/// <summary>The two HTTP surfaces over real sockets: each route answers on its own surface's ports only.</summary>
public sealed class HttpSurfacePolicyTests
{
    [Fact]
    public async Task Every_management_route_is_not_found_on_the_device_port_even_with_the_token()
    {
        await using var gateway = await GovernedGateway.StartAsync();
        foreach (var (method, path) in SurfaceRequests.Management)
        {
            using var response = await gateway.Device.SendAsync(SurfaceRequests.Create(method, path, GovernedGateway.AdminToken));
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path} on the device port answered {(int)response.StatusCode}");
        }

        // The POST /api/v1/drain above reached nothing: the node is still ready.
        Assert.Equal(DrainState.Idle, gateway.Drain.Status.State);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Http.GetAsync("/readyz")).StatusCode);
    }

    [Fact]
    public async Task Every_management_route_is_not_found_on_the_HTTPS_device_port()
    {
        using var pki = TestPki.Create();
        await using var gateway = await GovernedGateway.StartAsync(pki.Settings("None"));
        using var handler = new SocketsHttpHandler { SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = TrustingTheTestCa(pki) } };
        using var https = new HttpClient(handler) { BaseAddress = new Uri($"https://localhost:{gateway.HttpTlsPort}") };
        foreach (var (method, path) in SurfaceRequests.Management)
        {
            using var response = await https.SendAsync(SurfaceRequests.Create(method, path, GovernedGateway.AdminToken));
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path} on the HTTPS device port answered {(int)response.StatusCode}");
        }

        // The port itself serves: MQTT over WebSocket answers a plain GET with its hint.
        Assert.Equal(HttpStatusCode.BadRequest, (await https.GetAsync("/mqtt")).StatusCode);
        Assert.Equal(DrainState.Idle, gateway.Drain.Status.State);
    }

    [Fact]
    public async Task The_Host_header_does_not_choose_the_surface()
    {
        // The surface is the port the connection came in on; a device naming the management port in Host gets nothing.
        await using var gateway = await GovernedGateway.StartAsync();
        using var spoofed = await gateway.Device.SendAsync(SurfaceRequests.Create("GET", "/api/v1/clients", GovernedGateway.AdminToken, host: $"127.0.0.1:{gateway.ManagementPort}"));
        Assert.Equal(HttpStatusCode.NotFound, spoofed.StatusCode);
        using var probe = await gateway.Device.SendAsync(SurfaceRequests.Create("GET", "/healthz", host: $"127.0.0.1:{gateway.ManagementPort}"));
        Assert.Equal(HttpStatusCode.NotFound, probe.StatusCode);
    }

    [Fact]
    public async Task Device_routes_answer_on_the_device_port_and_not_on_the_management_port()
    {
        await using var gateway = await GovernedGateway.StartAsync();
        (string Method, string Path, HttpStatusCode OnDevicePort)[] device =
        [
            ("GET", "/mqtt", HttpStatusCode.BadRequest),                // not an upgrade: the hint
            ("GET", "/mlp", HttpStatusCode.BadRequest),                 // not an upgrade
            ("POST", "/mlp/v1/request", HttpStatusCode.UnsupportedMediaType), // no MLP body
            ("GET", "/mlp/v1/dictionaries/40001", HttpStatusCode.Unauthorized), // no device token
        ];
        foreach (var (method, path, expected) in device)
        {
            using var onDevice = await gateway.Device.SendAsync(SurfaceRequests.Create(method, path));
            Assert.True(onDevice.StatusCode == expected, $"{method} {path} on the device port answered {(int)onDevice.StatusCode}");
            using var onManagement = await gateway.Admin.SendAsync(SurfaceRequests.Create(method, path, GovernedGateway.AdminToken));
            Assert.True(onManagement.StatusCode == HttpStatusCode.NotFound, $"{method} {path} on the management port answered {(int)onManagement.StatusCode}");
        }

        // A real WebSocket: MQTT over WebSocket connects on the device port, and is refused on the management port.
        await using (var ws = await WebSocketMqttClient.ConnectAsync(new Uri($"ws://127.0.0.1:{gateway.HttpPort}/mqtt")))
        {
            Assert.Equal(AccessLayer.Protocol.Mqtt.MqttReasonCode.Success, (await ws.ConnectMqttAsync("ws-device")).ReasonCode);
        }

        await Assert.ThrowsAsync<WebSocketException>(() => WebSocketMqttClient.ConnectAsync(new Uri($"ws://127.0.0.1:{gateway.ManagementPort}/mqtt")));
    }

    private static RemoteCertificateValidationCallback TrustingTheTestCa(TestPki pki) => (_, certificate, _, _) =>
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(pki.Ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return certificate is X509Certificate2 server && chain.Build(server);
    };
}
