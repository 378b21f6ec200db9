using System.Globalization;
using System.Text;
using System.Text.Json;
using AccessLayer.Gateway.Tests.Broker;
using AccessLayer.Gateway.Tests.Governance;
using AccessLayer.Gateway.Traffic;
using AccessLayer.Protocol.Mqtt;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using NetQos = MQTTnet.Protocol.MqttQualityOfServiceLevel;
using NetVersion = MQTTnet.Formatter.MqttProtocolVersion;

namespace AccessLayer.Gateway.Tests.Traffic;

/// <summary>
/// MQTT uplinks through the traffic table (<see cref="TrafficUplinks"/>, docs/traffic.md "MQTT uplinks"), end to end:
/// real MQTT clients (MQTTnet, mosquitto_pub, a raw socket client where the test must see an acknowledgement not come)
/// publish through the in-process gateway, and real Kestrel backends labelled by zone receive the batches. The
/// gateway's clock is fake: retry delays, timeouts and the linger move only when the test moves them.
/// </summary>
public sealed class TrafficUplinksTests
{
    private static readonly TimeSpan NoAckWait = TimeSpan.FromMilliseconds(400);

    [Fact]
    public async Task A_qos1_publish_reaches_the_backend_of_its_users_zone_with_the_publishers_identity_and_is_acknowledged()
    {
        await using var site = await UplinkGateway.StartAsync();
        using var a = await ConnectMqttNetAsync(site, "meter-a", UplinkGateway.UserA);
        using var b = await ConnectMqttNetAsync(site, "meter-b", UplinkGateway.UserB);

        var ackA = await a.PublishAsync(Message("devices/meter-a/telemetry", "21.5", NetQos.AtLeastOnce));
        var ackB = await b.PublishAsync(Message("devices/meter-b/telemetry", "19.0", NetQos.AtLeastOnce));

        Assert.Equal(MqttClientPublishReasonCode.Success, ackA.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.Success, ackB.ReasonCode);
        // Acknowledged only after the backend accepted: the batch is there by the time the PUBACK is.
        var batchA = Assert.Single(site.BlueA.Accepted);
        var batchB = Assert.Single(site.BlueB.Accepted);
        Assert.Equal("sh-a", batchA.Headers["x-mlp-zone"]);
        Assert.Equal("blue", batchA.Headers["x-mlp-group"]);
        Assert.Equal("/telemetry", batchA.Headers["path"]);
        Assert.Equal("sh-b", batchB.Headers["x-mlp-zone"]);
        var message = Assert.Single(batchA.Messages);
        Assert.Equal("meter-a", message.GetProperty("clientId").GetString());
        Assert.Equal(UplinkGateway.UserA, message.GetProperty("username").GetString());
        Assert.Equal(UplinkGateway.UserA, message.GetProperty("uid").GetString());
        Assert.Equal("devices/meter-a/telemetry", message.GetProperty("topic").GetString());
        Assert.Equal(1, message.GetProperty("qos").GetInt32());
        Assert.Equal("shard", message.GetProperty("reason").GetString());
        Assert.Equal("21.5", Encoding.UTF8.GetString(message.GetProperty("payload").GetBytesFromBase64()));
        Assert.Equal(UplinkGateway.UserB, Assert.Single(batchB.Messages).GetProperty("uid").GetString());
        Assert.Empty(site.ShadowA.Attempts);
    }

    [Fact]
    public async Task A_claimed_user_name_is_not_a_uid_when_authentication_checked_nothing()
    {
        // No credential source: the gateway accepts anyone, and the user name is only what the client says.
        var backends = await Task.WhenAll(new[] { "sh-a/blue", "sh-a/shadow", "sh-b/blue" }.Select(UplinkBackend.StartAsync));
        var path = Path.Combine(Path.GetTempPath(), "uplinks-" + Guid.NewGuid().ToString("N") + ".yaml");
        await File.WriteAllTextAsync(path, UplinkGateway.Table(1, backends[0].Url, backends[1].Url, backends[2].Url));
        try
        {
            await using var gateway = await InProcessGateway.StartAsync($"--Traffic:TableFile={path}", "--Traffic:Site=sh", $"--Traffic:Secret={UplinkGateway.Secret}", "--Traffic:UplinkLinger=00:00:00");
            await using var client = await gateway.ConnectClientAsync();
            await client.ConnectAsync(new MqttConnectPacket { ProtocolVersion = MqttProtocolVersion.V500, ClientId = "claims", CleanStart = true, UserName = UplinkGateway.UserA });

            await client.PublishAsync("devices/claims/telemetry", "x", MqttQualityOfService.AtLeastOnce, packetId: 1);
            Assert.Equal(MqttReasonCode.Success, (await client.ReceiveAsync()).AsPubAck(MqttProtocolVersion.V500).ReasonCode);

            var message = Assert.Single(backends.SelectMany(b => b.Accepted).SelectMany(b => b.Messages));
            Assert.Equal(UplinkGateway.UserA, message.GetProperty("username").GetString());
            Assert.Equal(JsonValueKind.Null, message.GetProperty("uid").ValueKind);
            // No uid: routed as traffic of no user, to an up zone of the site, not to the zone of the name it claimed.
            Assert.Equal("site_least_outstanding", message.GetProperty("reason").GetString());
        }
        finally
        {
            foreach (var backend in backends)
                await backend.DisposeAsync();
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V500)]
    [InlineData(MqttProtocolVersion.V311)]
    public async Task The_puback_waits_while_the_backend_answers_503_and_follows_once_it_recovers(MqttProtocolVersion version)
    {
        await using var site = await UplinkGateway.StartAsync();
        site.BlueA.Answer = 503;
        await using var client = await site.ConnectAsync("meter-a", UplinkGateway.UserA, version);

        await client.PublishAsync("devices/meter-a/telemetry", "t1", MqttQualityOfService.AtLeastOnce, packetId: 7);
        await UplinkGateway.WaitUntilAsync(() => !site.BlueA.Attempts.IsEmpty, "first attempt");

        Assert.Null(await client.TryReceiveAsync(NoAckWait));
        site.BlueA.Answer = 200;
        await site.AdvanceUntilAsync(() => !site.BlueA.Accepted.IsEmpty, TimeSpan.FromSeconds(1), "the batch sent again");

        var ack = (await client.ReceiveAsync()).AsPubAck(version);
        Assert.Equal(7, ack.PacketId);
        Assert.Equal(MqttReasonCode.Success, ack.ReasonCode);
        // The same batch, under the same id, every attempt; accepted once.
        var accepted = Assert.Single(site.BlueA.Accepted);
        Assert.All(site.BlueA.Attempts, attempt => Assert.Equal(accepted.BatchId, attempt.BatchId));
        Assert.Equal("t1", Encoding.UTF8.GetString(Assert.Single(accepted.Messages).GetProperty("payload").GetBytesFromBase64()));
        Assert.Null(await client.TryReceiveAsync(NoAckWait));
    }

    [Fact]
    public async Task A_hanging_backend_times_out_and_the_batch_is_sent_again_until_accepted()
    {
        await using var site = await UplinkGateway.StartAsync();
        site.BlueA.Hang();
        await using var client = await site.ConnectAsync("meter-a", UplinkGateway.UserA);

        await client.PublishAsync("devices/meter-a/telemetry", "t1", MqttQualityOfService.AtLeastOnce, packetId: 3);
        await site.BlueA.HangArrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(await client.TryReceiveAsync(NoAckWait));

        // Past Traffic:UplinkTimeout (2 s) the attempt is given up; the backend answers the next one.
        site.BlueA.Answer = 200;
        await site.AdvanceUntilAsync(() => !site.BlueA.Accepted.IsEmpty, TimeSpan.FromSeconds(1), "the batch sent again after the timeout");

        Assert.Equal(MqttReasonCode.Success, (await client.ReceiveAsync()).AsPubAck(MqttProtocolVersion.V500).ReasonCode);
        Assert.True(site.BlueA.Attempts.Count >= 2);
        Assert.Single(site.BlueA.Accepted);
    }

    [Fact]
    public async Task A_qos2_publish_is_queued_once_per_packet_id_and_its_exchange_completes()
    {
        await using var site = await UplinkGateway.StartAsync();
        site.BlueA.Hang();
        await using var client = await site.ConnectAsync("meter-a", UplinkGateway.UserA);

        // QoS 2 is acknowledged (PUBREC) once queued, before the backend answers: docs/traffic.md says so.
        await client.PublishAsync("devices/meter-a/telemetry", "q2", MqttQualityOfService.ExactlyOnce, packetId: 9);
        Assert.Equal(MqttPacketType.PubRec, (await client.ReceiveAsync()).Type);
        // The same id again (a retransmission before PUBREL) is acknowledged, not queued a second time.
        await client.PublishAsync("devices/meter-a/telemetry", "q2", MqttQualityOfService.ExactlyOnce, packetId: 9, dup: true);
        Assert.Equal(MqttPacketType.PubRec, (await client.ReceiveAsync()).Type);
        await client.SendAckAsync(MqttPacketType.PubRel, 9);
        Assert.Equal(MqttPacketType.PubComp, (await client.ReceiveAsync()).Type);

        site.BlueA.ReleaseHung();
        await UplinkGateway.WaitUntilAsync(() => !site.BlueA.Accepted.IsEmpty, "the batch");
        Assert.Equal(["q2"], site.BlueA.Accepted.SelectMany(Payloads));
        // Released once the gateway has the backend's answer (just after the backend recorded the batch).
        await UplinkGateway.WaitUntilAsync(() => site.Uplinks.Queues.Single().Held == 0, "the queue emptied");
    }

    [Fact]
    public async Task A_batch_waits_its_linger_on_the_clock_unless_it_fills_first()
    {
        await using var site = await UplinkGateway.StartAsync("--Traffic:UplinkLinger=00:00:05", "--Traffic:UplinkBatchSize=3");
        await using var client = await site.ConnectAsync("meter-a", UplinkGateway.UserA);

        await client.PublishAsync("devices/meter-a/telemetry", "1");
        await client.PublishAsync("devices/meter-a/telemetry", "2");
        // A QoS 1 PUBLISH outside the rules, acknowledged by the broker: the two before it were handled (queued).
        await client.PublishAsync("other/topic", "sync", MqttQualityOfService.AtLeastOnce, packetId: 1);
        await client.ReceiveAsync();
        site.Gateway.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Null(await client.TryReceiveAsync(TimeSpan.FromMilliseconds(200)));
        Assert.Empty(site.BlueA.Attempts);

        site.Gateway.Time.Advance(TimeSpan.FromSeconds(1));
        await UplinkGateway.WaitUntilAsync(() => site.BlueA.Accepted.Count == 1, "the lingered batch");
        Assert.Equal(["1", "2"], Payloads(site.BlueA.Accepted.Single()));

        // Three make a full batch: sent without the clock moving.
        foreach (var n in new[] { "3", "4", "5" })
            await client.PublishAsync("devices/meter-a/telemetry", n);
        await UplinkGateway.WaitUntilAsync(() => site.BlueA.Accepted.Count == 2, "the full batch");
        Assert.Equal(["3", "4", "5"], Payloads(site.BlueA.Accepted.Last()));
    }

    [Fact]
    public async Task A_rules_own_batch_size_and_linger_take_the_place_of_the_gateways_for_that_rule_only()
    {
        // The gateway's defaults: no linger, batches of up to 100. The telemetry rule: batches of 2, lingering 5 s.
        await using var site = await UplinkGateway.StartWithTelemetryRuleAsync("batchSize: 2\n    lingerMs: 5000");
        await using var client = await site.ConnectAsync("meter-a", UplinkGateway.UserA);

        await client.PublishAsync("devices/meter-a/telemetry", "1");
        // The events rule keeps the gateway's linger of 0: its batch goes at once, while telemetry's first message waits.
        await client.PublishAsync("devices/meter-a/events/door", "open", MqttQualityOfService.AtLeastOnce, packetId: 1);
        Assert.Equal(MqttReasonCode.Success, (await client.ReceiveAsync()).AsPubAck(MqttProtocolVersion.V500).ReasonCode);
        Assert.Equal(["open"], site.BlueA.Accepted.Where(b => b.Headers["path"] == "/events").SelectMany(Payloads));
        site.Gateway.Time.Advance(TimeSpan.FromSeconds(4));
        await Task.Delay(200);
        Assert.DoesNotContain(site.BlueA.Attempts, b => b.Headers["path"] == "/telemetry");

        // A second message fills telemetry's batch of 2: sent without the clock moving.
        await client.PublishAsync("devices/meter-a/telemetry", "2");
        await UplinkGateway.WaitUntilAsync(() => site.BlueA.Accepted.Count(b => b.Headers["path"] == "/telemetry") == 1, "the full batch of 2");
        Assert.Equal(["1", "2"], Payloads(site.BlueA.Accepted.Single(b => b.Headers["path"] == "/telemetry")));

        // Three more: a batch of 2 at once, the third waits out the rule's 5 s linger.
        foreach (var n in new[] { "3", "4", "5" })
            await client.PublishAsync("devices/meter-a/telemetry", n);
        await UplinkGateway.WaitUntilAsync(() => site.BlueA.Accepted.Count(b => b.Headers["path"] == "/telemetry") == 2, "the second batch of 2");
        var queue = site.Uplinks.Queues.Single(q => q.Key.Rule == "telemetry");
        await UplinkGateway.WaitUntilAsync(() => queue.Held == 1, "the third message held");
        Assert.Equal((2, TimeSpan.FromSeconds(5)), (queue.BatchSize, queue.Linger));
        site.Gateway.Time.Advance(TimeSpan.FromSeconds(5));
        await UplinkGateway.WaitUntilAsync(() => site.BlueA.Accepted.Count(b => b.Headers["path"] == "/telemetry") == 3, "the lingered batch of 1");
        Assert.Equal(["3", "4", "5"], site.BlueA.Accepted.Where(b => b.Headers["path"] == "/telemetry").Skip(1).SelectMany(Payloads));
    }

    [Fact]
    public async Task The_route_api_names_the_uplink_rule_of_a_topic_with_its_batching_and_where_its_publisher_goes()
    {
        await using var site = await UplinkGateway.StartWithTelemetryRuleAsync("batchSize: 2\n    lingerMs: 5000", "--Traffic:UplinkBatchBytes=65536", "--Management:Token=uplink-admin");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{site.Gateway.ManagementPort}/") };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "uplink-admin");

        using (var json = JsonDocument.Parse(await http.GetStringAsync(new Uri($"api/v1/traffic/route?topic=devices%2Fmeter-a%2Ftelemetry&uid={UplinkGateway.UserA}&deviceId=meter-a", UriKind.Relative))))
        {
            var root = json.RootElement;
            Assert.Equal(("sh-a", "shard", "blue"), (root.GetProperty("zone").GetString(), root.GetProperty("reason").GetString(), root.GetProperty("group").GetString()));
            Assert.Equal(site.BlueA.Url, Assert.Single(root.GetProperty("endpoints").EnumerateArray()).GetProperty("url").GetString());
            var uplink = root.GetProperty("uplink");
            Assert.Equal(("telemetry", "devices/+/telemetry", "telemetry", "telemetry", "forward"),
                (uplink.GetProperty("rule").GetString(), uplink.GetProperty("topic").GetString(), uplink.GetProperty("service").GetString(), uplink.GetProperty("operation").GetString(), uplink.GetProperty("mode").GetString()));
            // The rule's own size and linger; the bytes are the gateway's, since the rule leaves them out.
            Assert.Equal((2, 65536, 5000L), (uplink.GetProperty("batchSize").GetInt32(), uplink.GetProperty("batchBytes").GetInt32(), uplink.GetProperty("lingerMs").GetInt64()));
            Assert.False(uplink.TryGetProperty("refused", out _));
        }

        // The gray rule's device id is the MQTT client id; a rule that requires a uid says it would refuse a publisher without one.
        using (var json = JsonDocument.Parse(await http.GetStringAsync(new Uri($"api/v1/traffic/route?topic=devices%2Fmeter-beta%2Fevents%2Fdoor&uid={UplinkGateway.UserA}&deviceId=meter-beta", UriKind.Relative))))
        {
            Assert.Equal(("canary", "meters-beta"), (json.RootElement.GetProperty("group").GetString(), json.RootElement.GetProperty("grayRule").GetString()));
            Assert.Equal(("events", "forward-and-publish", 100, 0L), (json.RootElement.GetProperty("uplink").GetProperty("rule").GetString(), json.RootElement.GetProperty("uplink").GetProperty("mode").GetString(),
                json.RootElement.GetProperty("uplink").GetProperty("batchSize").GetInt32(), json.RootElement.GetProperty("uplink").GetProperty("lingerMs").GetInt64()));
        }

        using (var json = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/v1/traffic/route?topic=strict%2Fx", UriKind.Relative))))
        {
            Assert.Contains("requireUid", json.RootElement.GetProperty("uplink").GetProperty("refused").GetString(), StringComparison.Ordinal);
        }

        var none = await http.GetAsync(new Uri("api/v1/traffic/route?topic=other%2Ftopic", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, none.StatusCode);
        Assert.Contains("no uplink rule of version 1 takes topic other/topic", await none.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, (await http.GetAsync(new Uri("api/v1/traffic/route?topic=devices%2Fm%2Ftelemetry&service=orders", UriKind.Relative))).StatusCode);
        Assert.Empty(site.BlueA.Attempts);
    }

    [Fact]
    public async Task A_full_queue_refuses_qos1_with_quota_exceeded_counts_dropped_qos0_and_loses_nothing_it_took()
    {
        await using var site = await UplinkGateway.StartAsync("--Traffic:UplinkQueueLength=2", "--Traffic:UplinkBatchSize=1");
        site.BlueA.Hang();
        await using var client = await site.ConnectAsync("meter-a", UplinkGateway.UserA);

        await client.PublishAsync("devices/meter-a/telemetry", "held-1", MqttQualityOfService.AtLeastOnce, packetId: 1);
        await site.BlueA.HangArrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await client.PublishAsync("devices/meter-a/telemetry", "held-2", MqttQualityOfService.AtLeastOnce, packetId: 2);
        await client.PublishAsync("devices/meter-a/telemetry", "refused", MqttQualityOfService.AtLeastOnce, packetId: 3);

        var refused = (await client.ReceiveAsync()).AsPubAck(MqttProtocolVersion.V500);
        Assert.Equal(3, refused.PacketId);
        Assert.Equal(MqttReasonCode.QuotaExceeded, refused.ReasonCode);
        await client.PublishAsync("devices/meter-a/telemetry", "dropped");
        await UplinkGateway.WaitUntilAsync(() => Metric(site, "accesslayer_traffic_uplink_dropped_total{reason=\"queue_full\",rule=\"telemetry\"}") == 1, "the QoS 0 drop counted");
        Assert.Equal(2, site.Uplinks.Queues.Single().Held);

        site.BlueA.ReleaseHung();
        var acks = new[] { (await client.ReceiveAsync()).AsPubAck(MqttProtocolVersion.V500), (await client.ReceiveAsync()).AsPubAck(MqttProtocolVersion.V500) };
        Assert.Equal([1, 2], acks.Select(a => (int)a.PacketId));
        Assert.All(acks, a => Assert.Equal(MqttReasonCode.Success, a.ReasonCode));
        Assert.Equal(["held-1", "held-2"], site.BlueA.Accepted.SelectMany(Payloads));
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V500)]
    [InlineData(MqttProtocolVersion.V311)]
    public async Task A_rule_that_refuses_answers_0x80_in_mqtt5_and_no_puback_in_mqtt311(MqttProtocolVersion version)
    {
        await using var site = await UplinkGateway.StartAsync("--Mqtt:AllowAnonymous=true");
        await using var client = await site.ConnectAsync("anonymous-meter", user: null, version);

        // strict/# requires an authenticated uid; an anonymous publisher has none.
        await client.PublishAsync("strict/readings", "x", MqttQualityOfService.AtLeastOnce, packetId: 5);

        if (version == MqttProtocolVersion.V500)
        {
            var ack = (await client.ReceiveAsync()).AsPubAck(version);
            Assert.Equal(MqttReasonCode.UnspecifiedError, ack.ReasonCode);
        }
        else
        {
            Assert.Null(await client.TryReceiveAsync(NoAckWait));
        }

        Assert.True(site.BlueA.Attempts.IsEmpty && site.BlueB.Attempts.IsEmpty);
        Assert.Equal(1, Metric(site, "accesslayer_traffic_uplink_messages_total{result=\"refused\",rule=\"strict\"}"));
    }

    [Fact]
    public async Task Forward_and_publish_also_reaches_subscribers_and_forward_only_does_not()
    {
        await using var site = await UplinkGateway.StartAsync();
        await using var subscriber = await site.ConnectAsync("dashboard", UplinkGateway.UserB);
        await subscriber.SubscribeAsync("devices/#", MqttQualityOfService.AtMostOnce);
        await using var client = await site.ConnectAsync("meter-a", UplinkGateway.UserA);

        await client.PublishAsync("devices/meter-a/telemetry", "backend only", MqttQualityOfService.AtLeastOnce, packetId: 1);
        await client.ReceiveAsync();
        await client.PublishAsync("devices/meter-a/events/door", "both", MqttQualityOfService.AtLeastOnce, packetId: 2);
        Assert.Equal(MqttReasonCode.Success, (await client.ReceiveAsync()).AsPubAck(MqttProtocolVersion.V500).ReasonCode);

        var delivered = await subscriber.ReceivePublishAsync();
        Assert.Equal("devices/meter-a/events/door", delivered.Message.Topic);
        Assert.Null(await subscriber.TryReceiveAsync(NoAckWait));
        Assert.Equal(["/telemetry", "/events"], site.BlueA.Accepted.Select(b => b.Headers["path"]));
    }

    [Fact]
    public async Task A_load_test_publish_goes_to_the_shadow_group_of_its_zone_marked()
    {
        await using var site = await UplinkGateway.StartAsync();
        using var client = await ConnectMqttNetAsync(site, "bot-1", UplinkGateway.UserA);

        var message = Message("devices/bot-1/telemetry", "synthetic", NetQos.AtLeastOnce);
        message.UserProperties = [new("mlp-load-test", Encoding.UTF8.GetBytes("1").AsMemory())];
        var ack = await client.PublishAsync(message);

        Assert.Equal(MqttClientPublishReasonCode.Success, ack.ReasonCode);
        var batch = Assert.Single(site.ShadowA.Accepted);
        Assert.Equal("1", batch.Headers["x-mlp-load-test"]);
        Assert.Equal("shadow", batch.Headers["x-mlp-group"]);
        Assert.True(batch.Body.GetProperty("loadTest").GetBoolean());
        Assert.Empty(site.BlueA.Attempts);
    }

    [Fact]
    public async Task A_down_zones_uplinks_go_to_its_standby_and_come_back_when_it_returns()
    {
        await using var site = await UplinkGateway.StartAsync();
        var store = site.Gateway.Services.GetRequiredService<TrafficTableStore>();
        using var client = await ConnectMqttNetAsync(site, "meter-a", UplinkGateway.UserA);

        Assert.Equal(TrafficApplyStatus.Applied, store.Apply(UplinkGateway.Table(2, site.BlueA.Url, site.ShadowA.Url, site.BlueB.Url, down: "[\"zone:sh-a\"]"), "admin").Status);
        await client.PublishAsync(Message("devices/meter-a/telemetry", "during", NetQos.AtLeastOnce));
        Assert.Equal(TrafficApplyStatus.Applied, store.Apply(UplinkGateway.Table(3, site.BlueA.Url, site.ShadowA.Url, site.BlueB.Url), "admin").Status);
        await client.PublishAsync(Message("devices/meter-a/telemetry", "after", NetQos.AtLeastOnce));

        var failover = Assert.Single(Assert.Single(site.BlueB.Accepted).Messages);
        Assert.Equal("failover", failover.GetProperty("reason").GetString());
        Assert.Equal("during", Encoding.UTF8.GetString(failover.GetProperty("payload").GetBytesFromBase64()));
        Assert.Equal(["after"], Payloads(Assert.Single(site.BlueA.Accepted)));
    }

    [Fact]
    public async Task Gray_rules_and_the_green_weight_route_uplinks_as_they_route_mlp_calls()
    {
        await using var site = await UplinkGateway.StartAsync();
        var store = site.Gateway.Services.GetRequiredService<TrafficTableStore>();
        Assert.Equal(TrafficApplyStatus.Applied, store.Apply(UplinkGateway.Table(2, site.BlueA.Url, site.ShadowA.Url, site.BlueB.Url, greenWeight: 100), "admin").Status);
        using var beta = await ConnectMqttNetAsync(site, "meter-beta", UplinkGateway.UserA);
        using var plain = await ConnectMqttNetAsync(site, "meter-a", UplinkGateway.UserA);

        await beta.PublishAsync(Message("devices/meter-beta/telemetry", "gray", NetQos.AtLeastOnce));
        await plain.PublishAsync(Message("devices/meter-a/telemetry", "green", NetQos.AtLeastOnce));

        // The client id is the device id a gray rule's deviceIds match; the rule beats the colour.
        var gray = Assert.Single(site.ShadowA.Accepted);
        Assert.Equal("canary", gray.Headers["x-mlp-group"]);
        Assert.Equal("meters-beta", Assert.Single(gray.Messages).GetProperty("grayRule").GetString());
        // Everyone else of sh-a is on green at weight 100 (sh-a's green endpoint is the sh-b backend here).
        var green = Assert.Single(site.BlueB.Accepted);
        Assert.Equal(("sh-a", "green"), (green.Headers["x-mlp-zone"], green.Headers["x-mlp-group"]));
        Assert.Empty(site.BlueA.Attempts);
    }

    [Fact]
    public async Task Mosquitto_pub_qos1_is_forwarded_with_its_authenticated_user_as_uid()
    {
        await using var site = await UplinkGateway.StartAsync();

        var result = await PeerProcess.RunAsync("mosquitto_pub",
        [
            "-h", "127.0.0.1", "-p", site.Gateway.MqttPort.ToString(CultureInfo.InvariantCulture), "-V", "mqttv311", "-i", "pump-7",
            "-u", UplinkGateway.UserB, "-P", UplinkGateway.UserB + "-pw", "-q", "1", "-t", "devices/pump-7/telemetry", "-m", "{\"rpm\":1200}",
        ], TimeSpan.FromSeconds(20));

        // mosquitto_pub exits 0 only after the PUBACK, which came after the backend accepted.
        Assert.True(result.ExitCode == 0, result.ToString());
        var message = Assert.Single(Assert.Single(site.BlueB.Accepted).Messages);
        Assert.Equal("pump-7", message.GetProperty("clientId").GetString());
        Assert.Equal(UplinkGateway.UserB, message.GetProperty("uid").GetString());
        Assert.Equal("{\"rpm\":1200}", Encoding.UTF8.GetString(message.GetProperty("payload").GetBytesFromBase64()));
    }

    [Fact]
    public async Task A_zone_in_another_site_gets_its_batches_through_that_sites_gateway()
    {
        await using var bjBackend = await UplinkBackend.StartAsync("bj-a/blue");
        await using var shBackend = await UplinkBackend.StartAsync("sh-a/blue");
        var bjPath = Path.Combine(Path.GetTempPath(), "uplinks-bj-" + Guid.NewGuid().ToString("N") + ".yaml");
        var shPath = Path.Combine(Path.GetTempPath(), "uplinks-sh-" + Guid.NewGuid().ToString("N") + ".yaml");
        var bjUser = UserIn(shard => shard >= 50);
        try
        {
            await File.WriteAllTextAsync(bjPath, TwoSites(shBackend.Url, bjBackend.Url, bjGateway: "http://127.0.0.1:1/"));
            await using var bj = await InProcessGateway.StartAsync($"--Traffic:TableFile={bjPath}", "--Traffic:Site=bj", $"--Traffic:Secret={UplinkGateway.Secret}", "--Traffic:Watch=false");
            // sh's table names no reachable bj-a backend: only bj's gateway, which has the real one in its table, can deliver.
            await File.WriteAllTextAsync(shPath, TwoSites(shBackend.Url, "http://127.0.0.1:1/", bjGateway: $"http://127.0.0.1:{bj.HttpPort}/"));
            await using var sh = await InProcessGateway.StartAsync($"--Traffic:TableFile={shPath}", "--Traffic:Site=sh", $"--Traffic:Secret={UplinkGateway.Secret}", "--Traffic:Watch=false",
                "--Traffic:UplinkLinger=00:00:00", $"--Mqtt:Users:{bjUser}=pw");
            // The two gateways' clocks agree, as the forward's signature requires.
            sh.Time.SetUtcNow(bj.Time.GetUtcNow());
            await using var client = await sh.ConnectClientAsync();
            await client.ConnectAsync(new MqttConnectPacket { ProtocolVersion = MqttProtocolVersion.V500, ClientId = "meter-bj", CleanStart = true, UserName = bjUser, Password = "pw"u8.ToArray() });

            await client.PublishAsync("devices/meter-bj/telemetry", "far", MqttQualityOfService.AtLeastOnce, packetId: 1);

            Assert.Equal(MqttReasonCode.Success, (await client.ReceiveAsync()).AsPubAck(MqttProtocolVersion.V500).ReasonCode);
            var batch = Assert.Single(bjBackend.Accepted);
            Assert.Equal("bj-a", batch.Headers["x-mlp-zone"]);
            Assert.Equal(bjUser, Assert.Single(batch.Messages).GetProperty("uid").GetString());
            Assert.Empty(shBackend.Attempts);
        }
        finally
        {
            File.Delete(bjPath);
            File.Delete(shPath);
        }
    }

    [Fact]
    public async Task A_batch_forwarded_without_a_valid_signature_is_refused()
    {
        await using var site = await UplinkGateway.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{site.Gateway.HttpPort}/") };

        using var response = await http.PostAsync(new Uri("traffic/v1/uplink/telemetry/sh-a/blue", UriKind.Relative), new StringContent("{\"messages\":[]}", Encoding.UTF8, "application/json"));

        Assert.Equal(System.Net.HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(site.BlueA.Attempts);
    }

    private static string TwoSites(string shBlue, string bjBlue, string bjGateway) => $$"""
        version: 1
        sites:
          sh: { city: shanghai }
          bj: { city: beijing, gateways: ["{{bjGateway}}"] }
        zones:
          sh-a: { site: sh, services: { telemetry: { blue: ["{{shBlue}}"] } } }
          bj-a: { site: bj, services: { telemetry: { blue: ["{{bjBlue}}"] } } }
        shards:
          0-49: sh-a
          50-99: bj-a
        uplinks:
          - name: telemetry
            topic: "devices/+/telemetry"
            service: telemetry
        """;

    private static string UserIn(Func<int, bool> shard)
    {
        for (var i = 0; ; i++)
        {
            if (shard(UidShards.Of("far-user-" + i)))
                return "far-user-" + i;
        }
    }

    private static string[] Payloads(UplinkBatch batch) =>
        [.. batch.Messages.Select(m => Encoding.UTF8.GetString(m.GetProperty("payload").GetBytesFromBase64()))];

    private static MQTTnet.MqttApplicationMessage Message(string topic, string payload, NetQos qos) =>
        new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(qos).Build();

    private static async Task<IMqttClient> ConnectMqttNetAsync(UplinkGateway site, string clientId, string user)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", site.Gateway.MqttPort)
            .WithClientId(clientId)
            .WithCredentials(user, user + "-pw")
            .WithProtocolVersion(NetVersion.V500)
            .WithKeepAlivePeriod(TimeSpan.Zero)
            .WithTimeout(TimeSpan.FromSeconds(20))
            .Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await client.ConnectAsync(options, timeout.Token);
        return client;
    }

    private static double Metric(UplinkGateway site, string series)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{site.Gateway.ManagementPort}/") };
        var text = http.GetStringAsync(new Uri("metrics", UriKind.Relative)).GetAwaiter().GetResult();
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
                return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
        }

        return 0;
    }
}
