using System.Text;
using AccessLayer.Gateway.Mqtt;
using AccessLayer.Gateway.Tests.Governance;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Broker;

/// <summary>
/// Publisher back-pressure over real loopback sockets: a publisher whose messages go to a
/// subscriber past its high watermark is not read until the subscriber drains, or until the
/// bounded wait (on the fake clock) runs out; keep alive and slow-consumer eviction still hold.
/// </summary>
public sealed class MqttConnectionBackPressureTests
{
    // 1 KiB messages against a 16-packet writer queue and small socket buffers: a subscriber that
    // stops reading is past its high watermark (8 packets) after about a hundred messages.
    private const int PayloadSize = 1024;

    private static Task<InProcessGateway> StartAsync(params string[] settings) =>
        InProcessGateway.StartAsync(["--Mqtt:MaxOutboundQueue=16", "--Limits:SocketSendBufferBytes=16384", .. settings]);

    [Fact]
    public async Task Publishers_are_not_read_while_their_subscriber_is_behind_and_nothing_is_dropped_when_it_catches_up()
    {
        await using var gateway = await StartAsync("--Limits:PublisherBackPressureWait=00:00:10");
        await using var subscriber = await SubscribeAsync(gateway, "reader", MqttQualityOfService.AtMostOnce);
        await using var a = await gateway.ConnectClientAsync();
        var writerA = await ConnectPublisherAsync(gateway, a, "writer-a");
        await using var b = await gateway.ConnectClientAsync();
        var writerB = await ConnectPublisherAsync(gateway, b, "writer-b");
        const int perPublisher = 1000;

        var publishing = Task.WhenAll(PublishSequenceAsync(a, 'a', perPublisher), PublishSequenceAsync(b, 'b', perPublisher));
        await GovernedGateway.WaitUntilAsync(() => writerA.PausedSince != 0 && writerB.PausedSince != 0, "both publishers paused");
        var read = gateway.Broker.Metrics.MessagesReceivedTotal;
        Assert.InRange(read, 2, (2 * perPublisher) - 1);
        await AssertStaysPausedAsync(gateway, read, writerA, writerB);

        // Once the subscriber reads, both publishers resume together, paced by it: every message arrives, in order per publisher.
        var received = await ReadSequencesAsync(subscriber, 2 * perPublisher);
        await publishing;
        Assert.Equal(perPublisher, received['a']);
        Assert.Equal(perPublisher, received['b']);
        var metrics = gateway.Broker.Metrics;
        Assert.Equal(0, metrics.DroppedTotal("slow_consumer"));
        Assert.True(metrics.BackPressurePauses >= 2);
        Assert.Equal(0, metrics.BackPressureExpired);
    }

    [Fact]
    public async Task The_wait_expires_on_the_clock_then_the_publisher_goes_on_and_QoS_0_is_dropped_and_counted()
    {
        await using var gateway = await StartAsync("--Limits:PublisherBackPressureWait=00:00:02");
        await using var subscriber = await SubscribeAsync(gateway, "asleep", MqttQualityOfService.AtMostOnce);
        await using var publisher = await gateway.ConnectClientAsync();
        var writer = await ConnectPublisherAsync(gateway, publisher, "writer");
        const int count = 2000;

        var publishing = PublishSequenceAsync(publisher, 'p', count);
        await GovernedGateway.WaitUntilAsync(() => writer.PausedSince != 0, "publisher paused");
        var read = gateway.Broker.Metrics.MessagesReceivedTotal;
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(1));
        await AssertStaysPausedAsync(gateway, read, writer);

        await gateway.AdvanceAsync(TimeSpan.FromSeconds(1.5));
        await publishing;
        await GovernedGateway.WaitUntilAsync(() => gateway.Broker.Metrics.MessagesReceivedTotal == count, "every PUBLISH read");

        // One wait, then the subscriber is waived (it did not drain): the rest is read at once and dropped for it.
        var metrics = gateway.Broker.Metrics;
        Assert.Equal(1, metrics.BackPressurePauses);
        Assert.Equal(1, metrics.BackPressureExpired);
        Assert.InRange(metrics.BackPressurePausedTime, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2.5));
        Assert.True(metrics.DroppedTotal("slow_consumer") > 0);
        Assert.Equal(0, writer.PausedSince);
        await publisher.SendAsync(MqttPingWriter.WritePingReq);
        Assert.Equal(MqttPacketType.PingResp, (await publisher.ReceiveAsync()).Type);
    }

    [Fact]
    public async Task A_subscriber_that_stays_behind_is_waived_for_one_wait_then_for_twice_as_long()
    {
        await using var gateway = await StartAsync("--Limits:PublisherBackPressureWait=00:00:01");
        await using var stuck = await SubscribeAsync(gateway, "stuck", MqttQualityOfService.AtMostOnce);
        await using var publisher = await gateway.ConnectClientAsync();
        var writer = await ConnectPublisherAsync(gateway, publisher, "writer");
        var metrics = gateway.Broker.Metrics;

        // First wait runs out (t = 1.5 s): waived for one wait.
        var publishing = PublishSequenceAsync(publisher, 'a', 1000);
        await GovernedGateway.WaitUntilAsync(() => writer.PausedSince != 0, "publisher paused");
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(1.5));
        await publishing;
        await GovernedGateway.WaitUntilAsync(() => metrics.MessagesReceivedTotal == 1000, "first batch read");
        Assert.Equal(1, metrics.BackPressureExpired);

        // Waiver over (t = 2.6 s): the next PUBLISH waits again, runs out again (t = 4.1 s): waived for two waits.
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(1.1));
        await PublishSequenceAsync(publisher, 'b', 10);
        await GovernedGateway.WaitUntilAsync(() => writer.PausedSince != 0, "publisher paused again");
        Assert.Equal(1010 - 9, metrics.MessagesReceivedTotal);
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(1.5));
        await GovernedGateway.WaitUntilAsync(() => metrics.MessagesReceivedTotal == 1010, "second batch read");
        Assert.Equal(2, metrics.BackPressureExpired);

        // At t = 5.2 s a one-wait waiver would be over; the doubled one is not: read on without pausing.
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(1.1));
        await PublishSequenceAsync(publisher, 'c', 10);
        await GovernedGateway.WaitUntilAsync(() => metrics.MessagesReceivedTotal == 1020 || writer.PausedSince != 0, "third batch read");
        Assert.Equal(1020, metrics.MessagesReceivedTotal);
        Assert.Equal(2, metrics.BackPressurePauses);
    }

    [Fact]
    public async Task A_stuck_subscriber_is_still_evicted_after_the_grace_and_its_publisher_keeps_going()
    {
        await using var gateway = await StartAsync("--Limits:PublisherBackPressureWait=00:00:01", "--Limits:SlowConsumerGrace=00:00:05");
        await using var stuck = await SubscribeAsync(gateway, "stuck", MqttQualityOfService.AtMostOnce);
        await using var publisher = await gateway.ConnectClientAsync();
        var writer = await ConnectPublisherAsync(gateway, publisher, "writer");
        const int count = 1000;

        var publishing = PublishSequenceAsync(publisher, 'p', count);
        await GovernedGateway.WaitUntilAsync(() => writer.PausedSince != 0, "publisher paused");
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(1.5));
        await publishing;

        for (var i = 0; i < 20 && gateway.Broker.TryGetClient("stuck", out _); i++)
        {
            // Past the grace maintenance evicts; the close gives a writer that cannot drain a bounded wait, then aborts.
            await gateway.AdvanceAsync(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }

        Assert.False(gateway.Broker.TryGetClient("stuck", out _));
        Assert.True(gateway.Broker.TryGetClient("writer", out _));
        await PublishSequenceAsync(publisher, 'q', 100);
        await GovernedGateway.WaitUntilAsync(() => gateway.Broker.Metrics.MessagesReceivedTotal == count + 100, "publisher read after the eviction");
        await publisher.SendAsync(MqttPingWriter.WritePingReq);
        Assert.Equal(MqttPacketType.PingResp, (await publisher.ReceiveAsync()).Type);
    }

    [Fact]
    public async Task A_paused_publisher_is_not_evicted_for_keep_alive_but_a_silent_one_still_is()
    {
        await using var gateway = await StartAsync("--Limits:PublisherBackPressureWait=00:00:10");
        await using var subscriber = await SubscribeAsync(gateway, "reader", MqttQualityOfService.AtMostOnce);
        await using var publisher = await gateway.ConnectClientAsync();
        var writer = await ConnectPublisherAsync(gateway, publisher, "writer", keepAlive: 2);
        const int count = 1000;

        var publishing = PublishSequenceAsync(publisher, 'p', count);
        await GovernedGateway.WaitUntilAsync(() => writer.PausedSince != 0, "publisher paused");

        // Twice past 1.5 x keep alive without a packet read, because we are not reading it.
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(4));
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(4));
        Assert.True(gateway.Broker.TryGetClient("writer", out _), "a paused publisher was evicted for keep alive");
        Assert.NotEqual(0, writer.PausedSince);

        var received = await ReadSequencesAsync(subscriber, count);
        await publishing;
        Assert.Equal(count, received['p']);
        await GovernedGateway.WaitUntilAsync(() => writer.PausedSince == 0, "publisher resumed");

        await gateway.AdvanceAsync(TimeSpan.FromSeconds(4));
        Assert.True(await publisher.WaitForCloseAsync());
        await GovernedGateway.WaitUntilAsync(() => !gateway.Broker.TryGetClient("writer", out _), "keep-alive eviction settled");
    }

    [Fact]
    public async Task A_QoS_1_subscriber_with_a_long_session_queue_pauses_its_publisher_and_loses_nothing()
    {
        await using var gateway = await StartAsync("--Limits:PublisherBackPressureWait=00:00:10", "--Mqtt:MaxQueuedMessages=40", "--Mqtt:MaxInflight=2");
        await using var subscriber = await gateway.ConnectClientAsync();
        await subscriber.ConnectAsync("reader");
        await subscriber.SubscribeAsync("bp/#", MqttQualityOfService.AtLeastOnce);
        await using var publisher = await gateway.ConnectClientAsync();
        var writer = await ConnectPublisherAsync(gateway, publisher, "writer");
        const int count = 200;

        var publishing = PublishSequenceAsync(publisher, 'p', count, MqttQualityOfService.AtLeastOnce);
        await GovernedGateway.WaitUntilAsync(() => writer.PausedSince != 0, "publisher paused");
        var read = gateway.Broker.Metrics.MessagesReceivedTotal;
        Assert.InRange(read, 20, 40);
        await AssertStaysPausedAsync(gateway, read, writer);

        for (var i = 0; i < count; i++)
        {
            var (message, packetId, _, _) = await subscriber.ReceivePublishAsync();
            Assert.Equal(i, ParseSequence(message.Payload.Span).Sequence);
            await subscriber.SendAckAsync(MqttPacketType.PubAck, packetId);
        }

        await publishing;
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(MqttPacketType.PubAck, (await publisher.ReceiveAsync()).Type);
        }

        Assert.Equal(0, gateway.Broker.Metrics.DroppedTotal("queue_full"));
        Assert.True(gateway.Broker.Metrics.BackPressurePauses >= 1);
    }

    [Fact]
    public async Task A_subscriber_that_keeps_up_never_pauses_its_publisher()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var subscriber = await SubscribeAsync(gateway, "reader", MqttQualityOfService.AtMostOnce);
        await using var publisher = await gateway.ConnectClientAsync();
        await ConnectPublisherAsync(gateway, publisher, "writer");
        const int count = 500;

        var publishing = PublishSequenceAsync(publisher, 'p', count, payloadSize: 64);
        var received = await ReadSequencesAsync(subscriber, count);
        await publishing;

        Assert.Equal(count, received['p']);
        Assert.Equal(0, gateway.Broker.Metrics.BackPressurePauses);
        Assert.Equal(0, gateway.Broker.Metrics.DroppedTotal("slow_consumer"));
    }

    private static async Task<RawMqttClient> SubscribeAsync(InProcessGateway gateway, string clientId, MqttQualityOfService qos)
    {
        var client = await RawMqttClient.OpenAsync(gateway.MqttPort, receiveBufferSize: 4096);
        await client.ConnectAsync(clientId);
        await client.SubscribeAsync("bp/#", qos);
        return client;
    }

    private static async Task<MqttConnection> ConnectPublisherAsync(InProcessGateway gateway, RawMqttClient client, string clientId, ushort keepAlive = 0)
    {
        await client.ConnectAsync(clientId, keepAlive: keepAlive);
        Assert.True(gateway.Broker.TryGetClient(clientId, out var connection));
        return connection;
    }

    /// <summary>Publishes <paramref name="count"/> numbered messages from a background task (its sends block while TCP pushes back).</summary>
    private static Task PublishSequenceAsync(RawMqttClient publisher, char tag, int count, MqttQualityOfService qos = MqttQualityOfService.AtMostOnce, int payloadSize = PayloadSize) =>
        Task.Run(async () =>
        {
            var padding = new string('.', payloadSize - 8);
            for (var i = 0; i < count; i++)
            {
                var payload = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{tag}{i:D6}|{padding}");
                await publisher.PublishAsync("bp/" + tag, payload, qos, packetId: qos == MqttQualityOfService.AtMostOnce ? (ushort)0 : (ushort)(i + 1));
            }
        });

    /// <summary>Reads <paramref name="count"/> messages and checks each publisher's sequence has no gap; returns how many came per publisher.</summary>
    private static async Task<Dictionary<char, int>> ReadSequencesAsync(RawMqttClient subscriber, int count)
    {
        var next = new Dictionary<char, int>();
        for (var i = 0; i < count; i++)
        {
            var (message, _, _, _) = await subscriber.ReceivePublishAsync();
            var (tag, sequence) = ParseSequence(message.Payload.Span);
            Assert.Equal(next.GetValueOrDefault(tag), sequence);
            next[tag] = sequence + 1;
        }

        return next;
    }

    private static (char Tag, int Sequence) ParseSequence(ReadOnlySpan<byte> payload) =>
        ((char)payload[0], int.Parse(Encoding.ASCII.GetString(payload.Slice(1, 6)), System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>While the clock stands still the wait cannot run out: nothing more is read from the publishers.</summary>
    private static async Task AssertStaysPausedAsync(InProcessGateway gateway, long read, params MqttConnection[] publishers)
    {
        for (var i = 0; i < 20; i++)
        {
            await Task.Delay(10);
            Assert.Equal(read, gateway.Broker.Metrics.MessagesReceivedTotal);
            Assert.All(publishers, p => Assert.NotEqual(0, p.PausedSince));
        }
    }
}
