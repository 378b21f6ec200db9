using System.Diagnostics;
using AccessLayer.Bots.Cli;
using AccessLayer.Bots.Client;
using AccessLayer.Bots.Metrics;
using AccessLayer.Bots.Scenarios;
using AccessLayer.Bots.Tests.EndToEnd;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Bots.Tests.Client;

/// <summary>
/// An unpaced publisher against a real mosquitto that stops reading (SIGSTOP: the broker is slower than the
/// bots, as mosquitto is on two shared cores). The bot must not bury its measured messages behind megabytes of
/// its own backlog: with the kernel's send-buffer autotuning each publisher queued ~1.5 MB ahead of the
/// broker, so in bench/side-by-side the messages written after the warm-up arrived after the run and
/// mosquitto's QoS 0 rows read "0 delivered".
/// </summary>
public sealed class BotMqttClientTests : IClassFixture<MosquittoFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private readonly MosquittoBroker _broker;

    public BotMqttClientTests(MosquittoFixture fixture)
    {
        _broker = fixture.Broker;
    }

    [Fact]
    public async Task An_unpaced_publisher_queues_little_more_than_its_send_buffer_ahead_of_a_broker_that_stopped_reading()
    {
        var stats = new BotStats();
        await using var client = await ConnectAsync(stats);
        var publication = new BotPublication("bots/backlog/" + Guid.NewGuid().ToString("N")[..8], 64);
        // Warm the connection up first: autotuning grows a send buffer only while the peer keeps up.
        await PublishForAsync(client, publication, TimeSpan.FromSeconds(1)).WaitAsync(Bound);

        long queued;
        using (Stop(_broker.ProcessId))
        {
            var before = stats.PublishedAll;
            await PublishForAsync(client, publication, TimeSpan.FromSeconds(1.5)).WaitAsync(Bound);
            queued = (stats.PublishedAll - before) * PacketBytes(publication);
        }

        // 64 KiB SO_SNDBUF (the kernel doubles it) + 32 KiB pending in the client + what the broker's receive
        // buffer took: about 0.3 MB. With autotuning it was 1.4 MB and more.
        Assert.InRange(queued, 1, 700_000);
    }

    [Fact]
    public async Task A_publisher_held_up_by_a_broker_that_stopped_reading_returns_when_its_run_ends()
    {
        await using var client = await ConnectAsync(new BotStats());
        var publication = new BotPublication("bots/held/" + Guid.NewGuid().ToString("N")[..8], 64);

        using (Stop(_broker.ProcessId))
        {
            var elapsed = Stopwatch.StartNew();
            // Waiting for the client's send buffer to drain must honour the run's end, or the run overruns its duration.
            await PublishForAsync(client, publication, TimeSpan.FromSeconds(1)).WaitAsync(Bound);
            Assert.InRange(elapsed.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        }
    }

    private async Task<BotMqttClient> ConnectAsync(BotStats stats)
    {
        // The settings a run uses, defaults included, so the test follows the bots' defaults.
        var settings = (await ScenarioRun.ResolveAsync(new BotOptions { Port = _broker.Port }, releaseBuffersWhenIdle: false, CancellationToken.None))[0];
        var client = new BotMqttClient(settings, stats);
        await client.ConnectAsync("backlog-" + Guid.NewGuid().ToString("N")[..8], source: null, CancellationToken.None);
        return client;
    }

    private static async Task PublishForAsync(BotMqttClient client, BotPublication publication, TimeSpan duration)
    {
        using var stop = new CancellationTokenSource(duration);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                Assert.True(await client.PublishAsync(publication, MqttQualityOfService.AtMostOnce, stop.Token));
            }
        }
        catch (OperationCanceledException)
        {
            // The duration is over.
        }
    }

    private static long PacketBytes(BotPublication publication) =>
        2 + 2 + publication.Message.Topic.Length + publication.Payload.Length;

    /// <summary>SIGSTOP now, SIGCONT on dispose: the broker process keeps its sockets but reads nothing.</summary>
    private static IDisposable Stop(int pid)
    {
        Signal("-STOP", pid);
        return new Resume(pid);
    }

    private static void Signal(string signal, int pid)
    {
        using var kill = Process.Start("kill", [signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    private sealed class Resume(int pid) : IDisposable
    {
        public void Dispose() => Signal("-CONT", pid);
    }
}
