using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using AccessLayer.Gateway.Tests.Broker;
using AccessLayer.Gateway.Tests.Fleet.Infrastructure;
using AccessLayer.Gateway.Tests.Governance;
using AccessLayer.Protocol.Mqtt;
using Microsoft.Extensions.DependencyInjection;

namespace AccessLayer.Gateway.Tests.Dashboard;

/// <summary>
/// The dashboard in a real browser (Debian's chromium) against a real gateway and real MQTT clients: what an operator
/// sees and clicks. Screenshots of each page go to <see cref="DashboardBrowser.ScreenshotDirectory"/>.
/// </summary>
public sealed class DashboardBrowserTests(ITestOutputHelper output)
{
    [ChromiumFact]
    public async Task An_operator_signs_in_sees_live_counts_and_charts_then_finds_kicks_a_client_and_lifts_a_ban()
    {
        // The real clock: the page polls once a second and the charts must grow while we watch.
        await using var gateway = await GovernedGateway.StartAsync(
            s => s.AddSingleton(TimeProvider.System),
            "--Limits:FlappingMaxConnects=2", "--Limits:FlappingWindow=00:01:00", "--Limits:FlappingBanDuration=00:05:00");
        var clients = new List<RawMqttClient>();
        foreach (var id in new[] { "meter-1", "meter-2", "kick-me" })
        {
            var client = await gateway.ConnectClientAsync();
            await client.ConnectAsync(id, keepAlive: 60);
            clients.Add(client);
        }

        await clients[2].SubscribeAsync("meters/#");
        await clients[0].PublishAsync("meters/1/state", "on", MqttQualityOfService.AtLeastOnce, packetId: 1, retain: true);
        await clients[0].ReceiveAsync();

        // Two CONNECTs of one id within the window make it flapping: the third is refused and the id banned.
        for (var i = 0; i < 3; i++)
        {
            await using var flappy = await gateway.ConnectClientAsync();
            if ((await flappy.ConnectAsync("flappy")).ReasonCode == MqttReasonCode.Success)
            {
                await flappy.DisconnectAsync();
            }
        }

        Assert.NotEqual("[]", await gateway.Admin.GetStringAsync("/api/v1/bans"));

        await using var browser = await DashboardBrowser.OpenAsync(new Uri($"http://127.0.0.1:{gateway.ManagementPort}/dashboard/"));
        // A wrong token is refused by the API and the page says so.
        await browser.Page.WaitForSelectorAsync("#token", new PuppeteerSharp.WaitForSelectorOptions { Visible = true });
        await browser.Page.TypeAsync("#token", "not-the-token");
        await browser.Page.ClickAsync("#login-submit");
        await browser.UntilAsync("document.getElementById('login-error').textContent.includes('not accepted')");
        await browser.SignInAsync(GovernedGateway.AdminToken);

        // Fleet page: this node with its three MQTT connections.
        await browser.UntilAsync("document.querySelectorAll('article.node').length === 1");
        await browser.UntilAsync("document.querySelector('article.node [data-figure=\"tcp\"]').textContent === '3'");
        Assert.Equal("0", await browser.EvalAsync<string>("document.querySelector('article.node [data-figure=\"mlp\"]').textContent"));
        await browser.UntilAsync("Number(document.querySelector('canvas[data-chart=\"connections\"]').dataset.points) >= 2");
        var points = int.Parse(await browser.EvalAsync<string>("document.querySelector('canvas[data-chart=\"connections\"]').dataset.points"));
        var pixels = await browser.EvalAsync<string>("document.querySelector('canvas[data-chart=\"messages\"]').toDataURL()");
        for (var i = 0; i < 5; i++)
        {
            await clients[1].PublishAsync("meters/2/power", "42");
        }

        await browser.UntilAsync($"Number(document.querySelector('canvas[data-chart=\"connections\"]').dataset.points) >= {points + 2}");
        await browser.UntilAsync($"document.querySelector('canvas[data-chart=\"messages\"]').toDataURL() !== {JsonSerializer.Serialize(pixels)}");
        output.WriteLine("screenshot: " + await browser.ScreenshotAsync("fleet"));

        // Clients page: search, one session, kick.
        await browser.Page.ClickAsync("#nav-clients");
        await browser.UntilAsync("document.querySelectorAll('#clients tbody tr').length === 3");
        await browser.UntilAsync("document.getElementById('devices-total').textContent.startsWith('0 connected')");
        await browser.Page.TypeAsync("#search", "KICK");
        await browser.Page.ClickAsync("#search-submit");
        await browser.UntilAsync("document.querySelectorAll('#clients tbody tr').length === 1 && document.querySelector('#clients tbody tr').dataset.client === 'kick-me'");
        await browser.Page.ClickAsync("tr[data-client=\"kick-me\"] .client-details");
        await browser.UntilAsync("!document.getElementById('client-detail').hidden && document.getElementById('detail-subscriptions').textContent.includes('meters/#')");

        // The bans and retained topics were loaded with the page.
        await browser.UntilAsync("document.querySelector('tr[data-ban=\"flappy\"]') !== null");
        await browser.UntilAsync("document.querySelector('tr[data-topic=\"meters/1/state\"]') !== null");
        output.WriteLine("screenshot: " + await browser.ScreenshotAsync("clients"));

        await browser.Page.ClickAsync("tr[data-client=\"kick-me\"] .client-kick");
        await browser.ConfirmAsync();
        await browser.UntilAsync("document.querySelector('tr[data-client=\"kick-me\"]') === null");
        // Its subscription's messages may come first.
        var packet = await clients[2].ReceiveAsync();
        while (packet.Type == MqttPacketType.Publish)
        {
            packet = await clients[2].ReceiveAsync();
        }

        Assert.Equal(MqttReasonCode.AdministrativeAction, packet.AsDisconnect(MqttProtocolVersion.V500).ReasonCode);
        Assert.True(await clients[2].WaitForCloseAsync(), "the kicked client's socket stayed open");
        Assert.False(gateway.Broker.TryGetClient("kick-me", out _));

        await browser.Page.ClickAsync("tr[data-ban=\"flappy\"] .ban-lift");
        await browser.ConfirmAsync();
        await browser.UntilAsync("document.querySelector('tr[data-ban=\"flappy\"]') === null && !document.getElementById('bans-empty').hidden");
        Assert.Equal("[]", await gateway.Admin.GetStringAsync("/api/v1/bans"));
        output.WriteLine("screenshot: " + await browser.ScreenshotAsync("clients-after"));

        // The one expected error is the refused sign-in's 401; a Content-Security-Policy violation would show here.
        Assert.DoesNotContain(browser.ConsoleErrors, e => !e.Contains("401", StringComparison.Ordinal));
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
    }

    [ChromiumFact]
    [Trait("Category", "Fleet")]
    public async Task A_peer_s_figures_show_on_another_node_s_dashboard_and_it_is_drained_from_there()
    {
        await using var cluster = await FleetCluster.StartAsync(2, output: output);
        var members = await cluster.WaitForMembersAsync(2, TimeSpan.FromSeconds(45));
        var (home, peer) = (cluster.Nodes[0], cluster.Nodes[1]);
        var peerId = members.Single(m => m.Mqtt == peer.MqttEndpoint).Id;
        var peerClients = new List<RawMqttClient>();
        for (var i = 0; i < 2; i++)
        {
            var client = await RawMqttClient.OpenAsync(peer.MqttPort);
            await client.ConnectAsync(new MqttConnectPacket { ProtocolVersion = MqttProtocolVersion.V500, ClientId = $"on-peer-{i}", KeepAliveSeconds = 60, CleanStart = true }, TimeSpan.FromSeconds(20));
            peerClients.Add(client);
        }

        await using var browser = await DashboardBrowser.OpenAsync(new Uri(home.ManagementUri, "dashboard/"));
        await browser.SignInAsync(cluster.ManagementToken);
        var card = $"document.querySelector('article.node[data-node={JsonSerializer.Serialize(peerId)}]')";
        await browser.UntilAsync("document.querySelectorAll('article.node').length === 2");
        // The peer's numbers, read through its node grain.
        await browser.UntilAsync($"{card}.querySelector('[data-figure=\"tcp\"]').textContent === '2'");
        await browser.UntilAsync($"Number({card}.querySelector('canvas[data-chart=\"connections\"]').dataset.points) >= 2");

        await browser.Page.ClickAsync($"article.node[data-node=\"{peerId}\"] .drain-start");
        await browser.ConfirmAsync();
        await browser.UntilAsync($"{card}.dataset.drain && {card}.dataset.drain !== 'idle'");
        await browser.UntilAsync($"{card}.querySelector('.drain-state').textContent.includes('moved')");
        output.WriteLine("screenshot: " + await browser.ScreenshotAsync("fleet-drain"));

        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync(new Uri(peer.ManagementUri, "readyz"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(home.ManagementUri, "readyz"))).StatusCode);
        foreach (var client in peerClients)
        {
            // Moved away: 5.0 DISCONNECT 0x9C (use another server), then the close.
            Assert.True(await client.WaitForCloseAsync(TimeSpan.FromSeconds(20)), "a drained client's socket stayed open");
            await client.DisposeAsync();
        }

        await browser.UntilAsync($"{card}.querySelector('.drain-state').textContent.includes('0 remaining')");
        Assert.True(browser.ConsoleErrors.Count == 0, string.Join(Environment.NewLine, browser.ConsoleErrors));
    }
}
