using System.Diagnostics;
using System.Net;
using AccessLayer.Bots.Client;
using AccessLayer.Bots.Metrics;
using AccessLayer.Bots.Scenarios;
using AccessLayer.Bots.Tests.EndToEnd;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Bots.Tests.Scenarios;

/// <summary>
/// Bot clients over two real gateway processes: spread over both, and moved to the survivor when one is
/// killed (SIGKILL, the way a fleet node fails), subscriptions included.
/// </summary>
public sealed class ClientFleetTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);
    private static readonly ReconnectBackoff FastBackoff = new(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(500));

    private readonly GatewayProcess _first;
    private readonly GatewayProcess _second;
    private readonly BotStats _stats = new();
    private readonly string _prefix = "fleet-" + Guid.NewGuid().ToString("N")[..8];

    public ClientFleetTests()
    {
        var starting = new[] { Task.Run(() => new GatewayProcess(mqtt: true)), Task.Run(() => new GatewayProcess(mqtt: true)) };
        try
        {
            Task.WaitAll(starting);
        }
        catch
        {
            // The constructor throws, so nobody disposes this instance: the gateway that did start must not outlive the test.
            foreach (var started in starting.Where(t => t.IsCompletedSuccessfully))
                started.Result.Dispose();
            throw;
        }

        _first = starting[0].Result;
        _second = starting[1].Result;
    }

    public void Dispose()
    {
        _first.Dispose();
        _second.Dispose();
    }

    [Fact]
    public async Task Clients_go_to_the_brokers_in_turn()
    {
        await using var fleet = Fleet(FastBackoff);

        var slots = await fleet.ConnectAsync(Ids(6), rate: 0, concurrency: 6, CancellationToken.None);

        Assert.Equal([0, 1, 0, 1, 0, 1], slots.Select(s => s!.Endpoint));
        Assert.Equal(3, await _first.ConnectedClientsAsync(_prefix));
        Assert.Equal(3, await _second.ConnectedClientsAsync(_prefix));
    }

    [Fact]
    public async Task Clients_can_start_at_another_broker_so_p2p_pairs_cross_brokers()
    {
        await using var fleet = Fleet(FastBackoff);

        var slots = await fleet.ConnectAsync(Ids(4), rate: 0, concurrency: 4, CancellationToken.None, firstEndpoint: 1);

        Assert.Equal([1, 0, 1, 0], slots.Select(s => s!.Endpoint));
    }

    [Fact]
    public async Task A_reconnect_is_timed_and_the_recovery_counted_from_the_first_loss()
    {
        await using var fleet = Fleet(FastBackoff);
        var slots = await fleet.ConnectAsync(Ids(2), rate: 0, concurrency: 2, CancellationToken.None);
        var lost = slots[0]!.Current;

        _first.Kill();
        using var bound = new CancellationTokenSource(Bound);
        Assert.NotNull(await slots[0]!.ReplacementAsync(lost, bound.Token));

        // The takeover's CONNECT to CONNACK is its own histogram, apart from the first connects'.
        Assert.Equal(1, _stats.ReconnectLatency.TotalCount);
        Assert.Equal(2, _stats.ConnectLatency.TotalCount);
        Assert.True(_stats.RecoverySeconds() > 0, "recovery measured from the loss to the reconnect");
        Assert.True(_stats.LastReconnectTimestamp > _stats.FirstLossTimestamp);
    }

    [Fact]
    public async Task A_connection_lost_with_its_broker_moves_to_the_next_broker_and_keeps_its_subscription()
    {
        await using var fleet = Fleet(FastBackoff);
        var slots = await fleet.ConnectAsync(Ids(2), rate: 0, concurrency: 2, CancellationToken.None);
        var topic = _prefix + "/failover";
        foreach (var slot in slots)
        {
            Assert.True(await slot!.SubscribeAsync(topic, MqttQualityOfService.AtMostOnce, CancellationToken.None));
        }

        var lost = slots[0]!.Current;
        _first.Kill();

        using var bound = new CancellationTokenSource(Bound);
        var replacement = await slots[0]!.ReplacementAsync(lost, bound.Token);
        Assert.NotNull(replacement);
        Assert.True(replacement.IsConnected);
        Assert.Equal(1, slots[0]!.Endpoint);
        Assert.Equal(1, _stats.ConnectionsLost);
        Assert.Equal(1, _stats.Reconnects);
        Assert.Equal(2, await _second.ConnectedClientsAsync(_prefix));

        // The moved client was subscribed again on the survivor: a real publisher there reaches both clients.
        await PublishAsync(_second.MqttPort, topic);
        await UntilAsync(() => replacement.ReceivedCount == 1 && slots[1]!.Current.ReceivedCount == 1, "both subscribers received the message");
    }

    [Fact]
    public async Task Without_a_reconnect_policy_a_lost_connection_stays_closed()
    {
        await using var fleet = Fleet(reconnect: null);
        var slots = await fleet.ConnectAsync(Ids(2), rate: 0, concurrency: 2, CancellationToken.None);
        var lost = slots[0]!.Current;

        _first.Kill();

        using var bound = new CancellationTokenSource(Bound);
        Assert.Null(await slots[0]!.ReplacementAsync(lost, bound.Token));
        Assert.False(bound.IsCancellationRequested);
        Assert.Equal(1, _stats.ConnectionsLost);
        Assert.Equal(0, _stats.Reconnects);
        Assert.True(slots[1]!.Current.IsConnected);
    }

    private ClientFleet Fleet(ReconnectBackoff? reconnect) => new(
        [Settings(_first.MqttPort), Settings(_second.MqttPort)], _stats, new SourceAddressPool(0, 0), TimeProvider.System, reconnect);

    private static BotConnectionSettings Settings(int port) => new() { Broker = new IPEndPoint(IPAddress.Loopback, port), ConnectTimeout = TimeSpan.FromSeconds(5) };

    private List<string> Ids(int count) => [.. Enumerable.Range(0, count).Select(i => $"{_prefix}-{i}")];

    private static async Task PublishAsync(int port, string topic)
    {
        using var publisher = Process.Start(new ProcessStartInfo("/usr/bin/mosquitto_pub", ["-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-t", topic, "-m", "moved", "-q", "1"])
        {
            RedirectStandardError = true,
        })!;
        using var bound = new CancellationTokenSource(Bound);
        await publisher.WaitForExitAsync(bound.Token);
        Assert.True(publisher.ExitCode == 0, await publisher.StandardError.ReadToEndAsync());
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var started = Stopwatch.GetTimestamp();
        while (!condition())
        {
            Assert.True(Stopwatch.GetElapsedTime(started) < Bound, $"not {what} within {Bound.TotalSeconds} s");
            await Task.Delay(20);
        }
    }
}
