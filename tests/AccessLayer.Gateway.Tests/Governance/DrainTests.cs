using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Tests.Broker;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Governance;

/// <summary>Graceful drain end to end: the admin API and SIGTERM, 0x9C with the Server Reference, pacing, readiness, sessions that survive.</summary>
public sealed class DrainTests
{
    private const string Reference = "node-b.example:1883";

    [Fact]
    public async Task A_drain_sends_5_0_clients_elsewhere_closes_3_1_1_clients_at_the_configured_rate_and_keeps_their_sessions()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Drain:Rate=20", $"--Drain:ServerReference={Reference}");
        var v5 = new List<RawMqttClient>();
        var v311 = new List<RawMqttClient>();
        for (var i = 0; i < 6; i++)
        {
            var client = await gateway.ConnectClientAsync();
            await client.ConnectAsync($"v5-{i}", sessionExpiry: 600);
            await client.SubscribeAsync("news/#");
            v5.Add(client);
        }

        for (var i = 0; i < 3; i++)
        {
            var client = await gateway.ConnectClientAsync();
            await client.ConnectAsync($"v3-{i}", MqttProtocolVersion.V311, cleanStart: false);
            await client.SubscribeAsync("news/#");
            v311.Add(client);
        }

        Assert.Equal(HttpStatusCode.OK, (await gateway.Http.GetAsync("/readyz")).StatusCode);
        using (var started = await gateway.Admin.PostAsync("/api/v1/drain", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await gateway.Http.GetAsync("/readyz")).StatusCode);
        await using (var newcomer = await gateway.ConnectClientAsync())
        {
            Assert.True(await newcomer.WaitForCloseAsync());
        }

        // 20 clients/s is 2 per 100 ms tick: the first tick moves 2 at once, the rest wait for the clock.
        await GovernedGateway.WaitUntilAsync(() => gateway.Drain.Status.Moved == 2, "first tick");
        await Task.Delay(200);
        Assert.Equal(2, gateway.Drain.Status.Moved);
        for (var i = 0; i < 100 && gateway.Drain.Status.State != DrainState.Drained; i++)
        {
            var before = gateway.Drain.Status.Moved;
            gateway.Time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(10);
            Assert.InRange(gateway.Drain.Status.Moved - before, 0, 2);
        }

        Assert.Equal(DrainState.Drained, gateway.Drain.Status.State);
        Assert.Equal(9, gateway.Drain.Status.Moved);

        foreach (var client in v5)
        {
            var disconnect = (await client.ReceiveAsync()).AsDisconnect(MqttProtocolVersion.V500);
            Assert.Equal(MqttReasonCode.UseAnotherServer, disconnect.ReasonCode);
            Assert.Equal(Reference, disconnect.ServerReference);
            Assert.True(await client.WaitForCloseAsync());
        }

        foreach (var client in v311)
        {
            Assert.Null(await client.TryReceiveAsync(TimeSpan.FromSeconds(5)));
        }

        Assert.Equal(9, await gateway.MetricAsync("accesslayer_gateway_drain_moved_total", ("protocol", "mqtt")));
        Assert.Equal(9, await gateway.MetricAsync("accesslayer_mqtt_disconnects_total", ("reason", "drain")));

        // Sessions outlive the drain: every client's session is still there, offline, with its subscription.
        await GovernedGateway.WaitUntilAsync(() => gateway.Broker.ConnectedClientCount == 0, "all gone");
        foreach (var id in new[] { "v5-0", "v5-5", "v3-0", "v3-2" })
        {
            using var detail = JsonDocument.Parse(await gateway.Admin.GetStringAsync($"/api/v1/clients/{id}"));
            Assert.False(detail.RootElement.GetProperty("connected").GetBoolean());
            var session = detail.RootElement.GetProperty("session");
            Assert.Equal("news/#", session.GetProperty("subscriptions")[0].GetProperty("topicFilter").GetString());
        }

        // Cancelling ends the drain: ready again, and a client resumes its session here.
        using (var cancelled = await gateway.Admin.DeleteAsync("/api/v1/drain"))
        {
            Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await gateway.Http.GetAsync("/readyz")).StatusCode);
        await using var back = await gateway.ConnectClientAsync();
        Assert.True((await back.ConnectAsync("v5-3", cleanStart: false, sessionExpiry: 600)).SessionPresent);
        await using var newsroom = await gateway.ConnectClientAsync();
        await newsroom.ConnectAsync("newsroom");
        await newsroom.PublishAsync("news/today", "resumed", MqttQualityOfService.AtLeastOnce, packetId: 1);
        var (message, packetId, _, _) = await back.ReceivePublishAsync();
        Assert.Equal("resumed", Encoding.UTF8.GetString(message.Payload.Span));
        await back.SendAckAsync(MqttPacketType.PubAck, packetId);

        foreach (var client in v5.Concat(v311))
        {
            await client.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Wills_of_drained_clients_are_published_only_when_configured(bool publishWills)
    {
        await using var gateway = await GovernedGateway.StartAsync($"--Drain:PublishWills={publishWills}");
        await using var device = await gateway.ConnectClientAsync();
        await device.ConnectAsync("with-will", sessionExpiry: 600, will: new MqttWillMessage { Topic = "wills/with-will", Payload = Encoding.UTF8.GetBytes("offline"), Retain = true });

        Assert.True(gateway.Drain.Start("test"));
        Assert.Equal(MqttReasonCode.UseAnotherServer, (await device.ReceiveAsync()).AsDisconnect(MqttProtocolVersion.V500).ReasonCode);
        await GovernedGateway.WaitUntilAsync(() => gateway.Broker.ConnectedClientCount == 0, "drained");
        Assert.True(gateway.Drain.Cancel());

        // A retained will would be handed to any later subscriber.
        await using var watcher = await gateway.ConnectClientAsync();
        await watcher.ConnectAsync("watcher");
        await watcher.SubscribeAsync("wills/#", MqttQualityOfService.AtMostOnce);
        var retained = await watcher.TryReceiveAsync(TimeSpan.FromMilliseconds(500));
        Assert.Equal(publishWills, retained is not null);
    }

    [Fact]
    public async Task SIGTERM_drains_before_the_listeners_stop()
    {
        var gateway = await GovernedGateway.StartAsync($"--Drain:ServerReference={Reference}");
        await using var client = await gateway.ConnectClientAsync();
        await client.ConnectAsync("shutdown-victim", sessionExpiry: 600);

        var stopping = gateway.StopAsync();
        var disconnect = (await client.ReceiveAsync()).AsDisconnect(MqttProtocolVersion.V500);
        Assert.Equal(MqttReasonCode.UseAnotherServer, disconnect.ReasonCode);
        Assert.Equal(Reference, disconnect.ServerReference);
        Assert.True(await client.WaitForCloseAsync());
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));
        await gateway.DisposeAsync();
    }

    [Fact]
    public async Task The_drain_API_reports_and_refuses_a_second_start()
    {
        await using var gateway = await GovernedGateway.StartAsync();
        using (var idle = await gateway.Admin.GetAsync("/api/v1/drain"))
        {
            Assert.Equal("idle", (await idle.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString());
        }

        using (var first = await gateway.Admin.PostAsync("/api/v1/drain", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        }

        using (var second = await gateway.Admin.PostAsync("/api/v1/drain", null))
        {
            Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        }

        await GovernedGateway.WaitUntilAsync(() => gateway.Drain.Status.State == DrainState.Drained, "drained");
        using var status = await gateway.Admin.GetAsync("/api/v1/drain");
        Assert.Equal("drained", (await status.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString());
    }
}
