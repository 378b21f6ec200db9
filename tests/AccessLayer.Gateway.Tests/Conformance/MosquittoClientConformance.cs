using AccessLayer.Gateway.Tests.Conformance.Brokers;
using AccessLayer.Gateway.Tests.Conformance.Clients;
using AccessLayer.Gateway.Tests.Conformance.Harness;

namespace AccessLayer.Gateway.Tests.Conformance;

/// <summary>
/// The broker against Debian's mosquitto_pub / mosquitto_sub (libmosquitto 2.0), in MQTT
/// 3.1.1 and 5.0 wherever the feature exists in that version.
/// </summary>
public abstract class MosquittoClientConformance<TFixture>(TFixture broker, ITestOutputHelper output)
    : ConformanceTest<TFixture>(broker, output), IClassFixture<TFixture>
    where TFixture : BrokerFixture
{
    public const string V311 = "mqttv311";
    public const string V5 = "mqttv5";

    [Theory]
    [InlineData(V311, 0)]
    [InlineData(V311, 1)]
    [InlineData(V311, 2)]
    [InlineData(V5, 0)]
    [InlineData(V5, 1)]
    [InlineData(V5, 2)]
    public async Task Delivery_keeps_content_count_and_order(string version, int qos)
    {
        var topic = Topic("qos");
        var sub = await Sub("sub", version, ["-t", topic, "-q", $"{qos}"]);
        var payloads = Numbered("m", 100);

        await Pub("pub", version, ["-t", topic, "-q", $"{qos}"], [.. payloads, "end"]);

        var got = await sub.WaitForPayloadAsync("end");
        Assert.Equal([.. payloads, "end"], got.Select(m => m.Payload));
        Assert.All(got, m =>
        {
            Assert.Equal(topic, m.Topic);
            Assert.Equal(qos, m.Qos);
            Assert.False(m.Retain);
        });
    }

    [Theory]
    [InlineData(V311)]
    [InlineData(V5)]
    public async Task Delivered_qos_is_the_lower_of_publish_and_subscription(string version)
    {
        var topic = Topic("downgrade");
        var sub0 = await Sub("sub-q0", version, ["-t", topic, "-q", "0"]);
        var sub1 = await Sub("sub-q1", version, ["-t", topic, "-q", "1"]);
        var sub2 = await Sub("sub-q2", version, ["-t", topic, "-q", "2"]);

        await Pub("pub-q2", version, ["-t", topic, "-q", "2", "-m", "two"]);
        await Pub("pub-q1", version, ["-t", topic, "-q", "1", "-m", "one"]);

        Assert.Equal([0, 0], (await sub0.WaitForPayloadAsync("one")).Select(m => m.Qos));
        Assert.Equal([1, 1], (await sub1.WaitForPayloadAsync("one")).Select(m => m.Qos));
        Assert.Equal([2, 1], (await sub2.WaitForPayloadAsync("one")).Select(m => m.Qos));
    }

    [Theory]
    [InlineData(V311)]
    [InlineData(V5)]
    public async Task Retained_message_is_delivered_on_subscribe_replaced_and_cleared(string version)
    {
        var topic = Topic("retained");
        var watcher = await Sub("watcher", version, ["-t", topic, "-q", "1"]);

        await Pub("set", version, ["-t", topic, "-q", "1", "-r", "-m", "one"]);
        var first = await Sub("first", version, ["-t", topic, "-q", "1"]);
        var one = Assert.Single(await first.WaitForCountAsync(1));
        Assert.Equal(("one", true), (one.Payload, one.Retain));

        await Pub("replace", version, ["-t", topic, "-q", "1", "-r", "-m", "two"]);
        var second = await Sub("second", version, ["-t", topic, "-q", "1"]);
        // A live message after the SUBACK: the retained one, if any, comes before it.
        await Pub("live", version, ["-t", topic, "-q", "1", "-m", "live"]);
        Assert.Equal([("two", true), ("live", false)], (await second.WaitForPayloadAsync("live")).Select(m => (m.Payload, m.Retain)));

        // An empty retained payload deletes the retained message (and is forwarded as usual).
        await Pub("clear", version, ["-t", topic, "-q", "1", "-r", "-n"]);
        var third = await Sub("third", version, ["-t", topic, "-q", "1"]);
        await Pub("after-clear", version, ["-t", topic, "-q", "1", "-m", "after-clear"]);
        Assert.Equal(["after-clear"], (await third.WaitForPayloadAsync("after-clear")).Select(m => m.Payload));

        // An established subscription gets retained publishes live, with RETAIN 0.
        var live = await watcher.WaitForPayloadAsync("after-clear");
        Assert.Equal(["one", "two", "live", "", "after-clear"], live.Select(m => m.Payload));
        Assert.All(live, m => Assert.False(m.Retain));
    }

    [Fact]
    public async Task Retain_as_published_keeps_the_retain_flag_on_live_messages()
    {
        var topic = Topic("rap");
        var rap = await Sub("rap", V5, ["-t", topic, "-q", "1", "--retain-as-published"]);
        var plain = await Sub("plain", V5, ["-t", topic, "-q", "1"]);

        await Pub("set", V5, ["-t", topic, "-q", "1", "-r", "-m", "kept"]);
        await Pub("live", V5, ["-t", topic, "-q", "1", "-m", "end"]);

        Assert.Equal([true, false], (await rap.WaitForPayloadAsync("end")).Select(m => m.Retain));
        Assert.Equal([false, false], (await plain.WaitForPayloadAsync("end")).Select(m => m.Retain));
    }

    [Theory]
    [InlineData(V311)]
    [InlineData(V5)]
    public async Task Will_is_published_when_the_client_dies(string version)
    {
        var will = Topic("will");
        var watcher = await Sub("watcher", version, ["-t", will, "-q", "1"]);
        var dying = await Sub("dying", version, ["-t", Topic("idle"), "-i", ClientId("dying"),
            "--will-topic", will, "--will-payload", "gone", "--will-qos", "1"]);

        dying.Process.Kill();

        var got = Assert.Single(await watcher.WaitForPayloadAsync("gone"));
        Assert.Equal((will, 1), (got.Topic, got.Qos));
    }

    [Theory]
    [InlineData(V311)]
    [InlineData(V5)]
    public async Task Will_is_not_published_after_a_clean_disconnect(string version)
    {
        var will = Topic("will");
        var watcher = await Sub("watcher", version, ["-t", will, "-q", "1"]);
        // -E: exit after the SUBACK, with DISCONNECT.
        var leaving = await Sub("leaving", version, ["-t", Topic("idle"), "-i", ClientId("leaving"), "-E",
            "--will-topic", will, "--will-payload", "gone", "--will-qos", "1"], waitForSuback: false);
        Assert.Equal(0, await leaving.Process.WaitForExitAsync(Budget.Wait));

        await Pub("marker", version, ["-t", will, "-q", "1", "-m", "end"]);

        Assert.Equal(["end"], (await watcher.WaitForPayloadAsync("end")).Select(m => m.Payload));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Will_delay_postpones_the_will()
    {
        var will = Topic("will");
        var watcher = await Sub("watcher", V5, ["-t", will, "-q", "1"]);
        // The will goes at the earlier of the delay and the session's end: keep the session longer.
        var dying = await Sub("dying", V5, ["-t", Topic("idle"), "-i", ClientId("dying"), "-x", "10",
            "--will-topic", will, "--will-payload", "late", "--will-qos", "1", "-D", "will", "will-delay-interval", "2"]);

        var killed = Wall.Now();
        dying.Process.Kill();

        Assert.Single(await watcher.WaitForPayloadAsync("late", TimeSpan.FromSeconds(6)));
        Assert.InRange(Wall.Since(killed), TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(5));
    }

    [Theory]
    [InlineData(V311)]
    [InlineData(V5)]
    public async Task Persistent_session_receives_qos1_messages_queued_while_offline(string version)
    {
        var topic = Topic("offline");
        string[] session = version == V5 ? ["-i", ClientId("sub"), "-c", "-x", "60"] : ["-i", ClientId("sub"), "-c"];
        var first = await Sub("first", version, [.. session, "-q", "1", "-t", topic, "-E"], waitForSuback: false);
        Assert.Equal(0, await first.Process.WaitForExitAsync(Budget.Wait));

        var queued = Numbered("q", 10);
        await Pub("while-away", version, ["-t", topic, "-q", "1"], queued);

        var resumed = await Sub("resumed", version, [.. session, "-q", "1", "-t", topic]);
        await Pub("marker", version, ["-t", topic, "-q", "1", "-m", "end"]);
        var got = await resumed.WaitForPayloadAsync("end");
        Assert.Equal([.. queued, "end"], got.Select(m => m.Payload));
        Assert.All(got, m => Assert.Equal(1, m.Qos));
    }

    [Theory]
    [InlineData(V311)]
    [InlineData(V5)]
    public async Task Clean_start_discards_the_previous_session(string version)
    {
        var topic = Topic("discarded");
        var id = ClientId("sub");
        string[] persistent = version == V5 ? ["-i", id, "-c", "-x", "60"] : ["-i", id, "-c"];
        var first = await Sub("first", version, [.. persistent, "-q", "1", "-t", topic, "-E"], waitForSuback: false);
        Assert.Equal(0, await first.Process.WaitForExitAsync(Budget.Wait));
        await Pub("while-away", version, ["-t", topic, "-q", "1"], Numbered("q", 3));

        var clean = await Sub("clean", version, ["-i", id, "-q", "1", "-t", topic]);
        await Pub("marker", version, ["-t", topic, "-q", "1", "-m", "end"]);

        Assert.Equal(["end"], (await clean.WaitForPayloadAsync("end")).Select(m => m.Payload));
    }

    [Theory]
    [InlineData(V311)]
    [InlineData(V5)]
    public async Task Takeover_by_the_same_client_id_closes_the_first_connection(string version)
    {
        var id = ClientId("twin");
        var first = await Sub("first", version, ["-i", id, "-t", Topic("a")]);
        Assert.Equal(1, first.ConnectCount);

        var second = await Sub("second", version, ["-i", id, "-t", Topic("b"), "-E"], waitForSuback: false);
        Assert.Equal(0, await second.Process.WaitForExitAsync(Budget.Wait));

        if (version == V5 && !Deviates(BrokerQuirks.NoTakeoverDisconnect, "DISCONNECT 0x8E to the first client"))
        {
            // 5.0 3.1.4: the old connection is told why; mosquitto_sub prints the reason and exits.
            await first.Process.WaitForLinesAsync(lines => lines.Any(l => l.Contains("Received DISCONNECT (142)", StringComparison.Ordinal)), Budget.Wait, "DISCONNECT 0x8E after the takeover");
            return;
        }

        // mosquitto_sub reconnects when its connection is dropped: a second CONNECT proves the drop.
        await first.Process.WaitForLinesAsync(lines => MosquittoSubscriber.CountConnects(lines) >= 2, Budget.Wait, "a reconnect after the takeover");
    }

    [Fact]
    public async Task Shared_subscription_delivers_each_message_to_one_member_and_survives_a_member_leaving()
    {
        var topic = Topic("shared");
        var filter = $"$share/g/{topic}";
        var a = await Sub("member-a", V5, ["-t", filter, "-q", "1"]);
        var b = await Sub("member-b", V5, ["-t", filter, "-q", "1"]);

        var first = Numbered("s", 20);
        await Pub("pub", V5, ["-t", topic, "-q", "1"], first);
        await Eventually(() => a.Messages.Count + b.Messages.Count >= first.Length, "20 messages across the members");

        var split = a.Messages.Concat(b.Messages).Select(m => m.Payload).Order().ToList();
        Assert.Equal(first.Order(), split);
        Assert.NotEmpty(a.Messages);
        Assert.NotEmpty(b.Messages);
        AssertInPublishOrder(a.Messages, first);
        AssertInPublishOrder(b.Messages, first);

        a.Process.Kill();
        var second = Numbered("t", 10);
        await Pub("pub-after", V5, ["-t", topic, "-q", "1"], second);

        var rest = await b.WaitForPayloadAsync("t9");
        Assert.Equal(second, rest.Select(m => m.Payload).Where(p => p.StartsWith('t')));
    }

    [Theory]
    [InlineData(V311)]
    [InlineData(V5)]
    public async Task Wildcards_match_one_level_and_all_levels(string version)
    {
        var root = Topic("wild");
        var plus = await Sub("plus", version, ["-t", $"{root}/+/temp", "-q", "1"]);
        var hash = await Sub("hash", version, ["-t", $"{root}/#", "-q", "1"]);

        string[] topics = [$"{root}/a/temp", $"{root}/b/humidity", $"{root}/a/b/temp", root, $"{root}/z/temp"];
        foreach (var (topic, i) in topics.Select((t, i) => (t, i)))
        {
            // One after another, each acknowledged before the next: the order on arrival is known.
            await Pub($"pub{i}", version, ["-t", topic, "-q", "1", "-m", i == topics.Length - 1 ? "end" : $"m{i}"]);
        }

        Assert.Equal([$"{root}/a/temp", $"{root}/z/temp"], (await plus.WaitForPayloadAsync("end")).Select(m => m.Topic));
        // "#" also matches the parent level itself.
        Assert.Equal(topics, (await hash.WaitForPayloadAsync("end")).Select(m => m.Topic));
    }

    [Theory]
    [InlineData(V311)]
    [InlineData(V5)]
    public async Task Wildcards_at_the_first_level_do_not_match_dollar_topics(string version)
    {
        var run = Topic("x").Split('/')[1];
        var dollarTopic = $"$conformance-{run}/x";
        var plainTopic = $"plain-{run}/x";
        var dollar = await Sub("dollar", version, ["-t", $"$conformance-{run}/#", "-q", "1"]);
        var hash = await Sub("hash", version, ["-t", "#", "-q", "1"]);
        var plus = await Sub("plus", version, ["-t", "+/x", "-q", "1"]);

        await Pub("pub-dollar", version, ["-t", dollarTopic, "-q", "1", "-m", "dollar"]);
        await Pub("pub-plain", version, ["-t", plainTopic, "-q", "1", "-m", "end"]);

        // The $ topic is routed (an explicit filter gets it), just never to a leading wildcard.
        Assert.Equal(dollarTopic, Assert.Single(await dollar.WaitForPayloadAsync("dollar")).Topic);
        var all = await hash.WaitForPayloadAsync("end");
        Assert.DoesNotContain(all, m => m.Topic.StartsWith('$')); // neither ours nor $SYS
        Assert.Equal([plainTopic], (await plus.WaitForPayloadAsync("end")).Select(m => m.Topic));
    }

    [Fact]
    public async Task Subscription_identifier_is_echoed_on_delivery()
    {
        var topic = Topic("subid");
        var sub = await Sub("sub", V5, ["-t", topic, "-q", "1", "-D", "subscribe", "subscription-identifier", "42"]);
        await Pub("pub", V5, ["-t", topic, "-q", "1", "-m", "end"]);

        Assert.Equal([42], Assert.Single(await sub.WaitForPayloadAsync("end")).Properties.SubscriptionIds);
    }

    [Fact]
    public async Task User_properties_pass_through_in_order()
    {
        var topic = Topic("userprops");
        var sub = await Sub("sub", V5, ["-t", topic, "-q", "1"]);
        await Pub("pub", V5, ["-t", topic, "-q", "1", "-m", "end",
            "-D", "publish", "user-property", "k1", "v1",
            "-D", "publish", "user-property", "k2", "v2",
            "-D", "publish", "user-property", "k1", "v3"]);

        var got = Assert.Single(await sub.WaitForPayloadAsync("end"));
        Assert.Equal([KeyValuePair.Create("k1", "v1"), KeyValuePair.Create("k2", "v2"), KeyValuePair.Create("k1", "v3")], got.Properties.UserProperties);
    }

    [Fact]
    public async Task Request_response_properties_pass_through()
    {
        var topic = Topic("request");
        var sub = await Sub("responder", V5, ["-t", topic, "-q", "1"]);
        await Pub("requester", V5, ["-t", topic, "-q", "1", "-m", "{\"ask\":1}",
            "-D", "publish", "response-topic", Topic("reply"),
            "-D", "publish", "correlation-data", "corr-7",
            "-D", "publish", "content-type", "application/json",
            "-D", "publish", "payload-format-indicator", "1"]);

        var got = Assert.Single(await sub.WaitForCountAsync(1));
        Assert.Equal((Topic("reply"), "corr-7", "application/json", 1),
            (got.Properties.ResponseTopic, got.Properties.CorrelationData, got.Properties.ContentType, got.Properties.PayloadFormat));
    }

    [Fact]
    public async Task Messages_over_the_client_maximum_packet_size_are_not_sent_to_it()
    {
        var topic = Topic("maxpacket");
        var small = await Sub("small", V5, ["-t", topic, "-q", "1", "-D", "connect", "maximum-packet-size", "256"]);
        var large = await Sub("large", V5, ["-t", topic, "-q", "1"]);
        var big = new string('x', 1000);

        await Pub("pub", V5, ["-t", topic, "-q", "1"], ["tiny", big, "end"]);

        // The server drops what does not fit and carries on as if it had been sent (MQTT-3.1.2-25).
        Assert.Equal(["tiny", "end"], (await small.WaitForPayloadAsync("end")).Select(m => m.Payload));
        Assert.Equal(["tiny", big, "end"], (await large.WaitForPayloadAsync("end")).Select(m => m.Payload));
    }

    [Fact]
    public async Task Topic_alias_from_the_publisher_reaches_subscribers_as_the_full_topic()
    {
        var topic = Topic("alias");
        var v5 = await Sub("sub-v5", V5, ["-t", topic, "-q", "1"]);
        var v311 = await Sub("sub-v311", V311, ["-t", topic, "-q", "1"]);
        var payloads = Numbered("a", 5);

        // In line mode mosquitto_pub sends the topic with the alias once, then the alias alone.
        var pub = await Pub("pub", V5, ["-t", topic, "-q", "1", "-D", "publish", "topic-alias", "1"], payloads);
        Assert.Contains(pub.TranscriptSince(0), l => l.Contains("'(null)'", StringComparison.Ordinal));

        foreach (var sub in new[] { v5, v311 })
        {
            var got = await sub.WaitForPayloadAsync("a4");
            Assert.Equal(payloads, got.Select(m => m.Payload));
            Assert.All(got, m => Assert.Equal(topic, m.Topic));
        }
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Message_expiry_drops_expired_queued_messages_and_decrements_the_rest()
    {
        var topic = Topic("expiry");
        string[] session = ["-i", ClientId("sub"), "-c", "-x", "60", "-q", "1", "-t", topic];
        var first = await Sub("first", V5, [.. session, "-E"], waitForSuback: false);
        Assert.Equal(0, await first.Process.WaitForExitAsync(Budget.Wait));

        await Pub("short", V5, ["-t", topic, "-q", "1", "-m", "short", "-D", "publish", "message-expiry-interval", "1"]);
        await Pub("long", V5, ["-t", topic, "-q", "1", "-m", "long", "-D", "publish", "message-expiry-interval", "60"]);
        await Wall.PassAsync(TimeSpan.FromSeconds(2.2));

        var resumed = await Sub("resumed", V5, session);
        await Pub("marker", V5, ["-t", topic, "-q", "1", "-m", "end"]);
        var got = await resumed.WaitForPayloadAsync("end");
        Assert.Equal(["long", "end"], got.Select(m => m.Payload));
        // Forwarded with the time it waited taken off (MQTT-3.3.2-6).
        Assert.InRange(got[0].Properties.MessageExpiry!.Value, 50, 58);
    }

    private protected Task<MosquittoSubscriber> Sub(string name, string version, string[] args, bool waitForSuback = true) =>
        MosquittoSubscriber.StartAsync(Broker, Processes, name, version, args, waitForSuback);

    private protected Task<ChildProcess> Pub(string name, string version, string[] args, IEnumerable<string>? lines = null) =>
        MosquittoPublisher.RunAsync(Broker, Processes, name, version, args, lines);

    private static void AssertInPublishOrder(IReadOnlyList<ReceivedMessage> got, string[] published)
    {
        var positions = got.Select(m => Array.IndexOf(published, m.Payload)).ToList();
        Assert.Equal(positions.Order(), positions);
    }
}
