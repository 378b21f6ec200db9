using System.Collections.Concurrent;
using AccessLayer.Client;
using AccessLayer.Client.Transport;
using AccessLayer.Mlp.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace AccessLayer.Mlp.Tests;

/// <summary>
/// Fresh connect attempts while a call is owed (docs/sdk.md "Reconnect"), against the real gateway over loopback, on a path that
/// passes no SYN while it is down and resends one as Linux does (<see cref="SilentPath"/>), on the test's clock.
/// </summary>
public sealed class MlpClientFreshConnectTests(ITestOutputHelper output)
{
    [Fact]
    public async Task While_a_call_waits_for_a_silent_path_a_fresh_connect_finds_its_return_within_the_interval_not_at_an_old_attempts_SYN_retransmission()
    {
        await using var outage = await SilentPathOutage.EnterAsync("dev-fresh");
        var (time, client, path) = (outage.Time, outage.Client, outage.Path);

        var call = client.CallAsync("echo", "owed", "x"u8.ToArray(), new MlpCallOptions { Timeout = TimeSpan.FromSeconds(60) });
        var from = path.Starts.Count;
        var ends = time.GetUtcNow() + TimeSpan.FromSeconds(10);
        await Eventually.TrueAsync(() => FakeClock.Step(time, time.GetUtcNow() >= ends, 20), "the outage lasts", 60_000);
        Assert.False(call.IsCompleted);
        var starts = path.Starts.Skip(from).ToList();
        var gaps = starts.Zip(starts.Skip(1), (a, b) => (b - a).TotalMilliseconds).ToList();
        output.WriteLine($"{starts.Count} connects in 10 s, gaps {gaps.Min():0}-{gaps.Max():0} ms, at most {path.MostOpen} open; fresh attempts {client.FreshAttemptsOpened}");

        // The path returns just after a connect started: the worst moment for an attempt that waits for its SYN retransmission (1 s).
        var started = path.Starts.Count;
        await Eventually.TrueAsync(() => FakeClock.Step(time, path.Starts.Count > started, 10), "a connect starts", 30_000);
        path.Down = false;
        var back = time.GetUtcNow();
        await Eventually.TrueAsync(() => FakeClock.Step(time, call.IsCompleted, 10), "the call is answered", 30_000);
        Assert.Equal(200, (await call).Status);
        var after = time.GetUtcNow() - back;
        output.WriteLine($"answered {after.TotalMilliseconds:0} ms after the path returned");

        // A fresh connect within the 100 ms interval (SRTT is about 0 here), then HELLO/WELCOME and the call.
        Assert.True(after <= TimeSpan.FromMilliseconds(250), $"answered {after.TotalMilliseconds:0} ms after the path returned");
        Assert.True(path.MostOpen <= 4, $"{path.MostOpen} connects open at once");
        // 100 ms apart within a connect; between two connects (each ends at its 2 s timeout) at most 1.5 intervals and the wait.
        Assert.True(gaps.Max() <= 300, $"a gap of {gaps.Max():0} ms between two connects while the call was owed");
    }

    [Fact]
    public async Task An_idle_client_on_a_silent_path_opens_no_fresh_connects_and_keeps_the_jittered_backoff()
    {
        await using var outage = await SilentPathOutage.EnterAsync("dev-fresh-idle");
        var (time, client, path) = (outage.Time, outage.Client, outage.Path);

        var from = path.Starts.Count;
        var ends = time.GetUtcNow() + TimeSpan.FromSeconds(20);
        await Eventually.TrueAsync(() => FakeClock.Step(time, time.GetUtcNow() >= ends, 50), "the outage lasts", 60_000);
        var connects = path.Starts.Count - from;
        output.WriteLine($"{connects} connects in 20 s, at most {path.MostOpen} open");

        Assert.Equal(0, client.FreshAttemptsOpened);
        Assert.Equal(1, path.MostOpen);
        // 2 s attempts with up to 2 s of jitter between them: about seven in 20 s, never one every 100 ms.
        Assert.InRange(connects, 4, 11);
    }

    [Fact]
    public async Task Fresh_connects_stop_at_the_outages_budget_and_the_attempts_go_on_one_at_a_time()
    {
        await using var outage = await SilentPathOutage.EnterAsync("dev-fresh-budget", o => o.ReconnectOwedMaxFreshAttempts = 20);
        var (time, client, path) = (outage.Time, outage.Client, outage.Path);

        var call = client.CallAsync("echo", "owed", "x"u8.ToArray(), new MlpCallOptions { Timeout = TimeSpan.FromSeconds(60) });
        var ends = time.GetUtcNow() + TimeSpan.FromSeconds(6);
        await Eventually.TrueAsync(() => FakeClock.Step(time, time.GetUtcNow() >= ends, 20), "the budget is spent", 60_000);
        Assert.Equal(20, client.FreshAttemptsOpened);

        var from = path.Starts.Count;
        ends = time.GetUtcNow() + TimeSpan.FromSeconds(10);
        await Eventually.TrueAsync(() => FakeClock.Step(time, time.GetUtcNow() >= ends, 20), "the outage lasts", 60_000);
        var connects = path.Starts.Count - from;
        output.WriteLine($"{connects} connects in the 10 s after the budget was spent");
        Assert.Equal(20, client.FreshAttemptsOpened);
        // One 2 s attempt at a time, at most 250 ms apart: four or five in 10 s.
        Assert.InRange(connects, 4, 6);

        path.Down = false;
        await Eventually.TrueAsync(() => FakeClock.Step(time, call.IsCompleted, 20), "the call is answered", 30_000);
        Assert.Equal(200, (await call).Status);
    }

    /// <summary>
    /// A path that passes no SYN while it is down, on the test's clock: a connect started then gets through only at a retransmission
    /// of its SYN after the path returned (1, 3, 7, 15 s after it started, as Linux resends an unanswered SYN), unless it is given up
    /// on first; a connect started while the path is up goes through at once.
    /// </summary>
    private sealed class SilentPath(FakeTimeProvider time) : IMlpTransportFactory
    {
        private int _open;
        private int _mostOpen;

        public volatile bool Down;

        public ConcurrentQueue<DateTimeOffset> Starts { get; } = new();

        /// <summary>The most connects under way at once since <see cref="ResetMostOpen"/>.</summary>
        public int MostOpen => Volatile.Read(ref _mostOpen);

        public void ResetMostOpen() => Volatile.Write(ref _mostOpen, 0);

        public async ValueTask<IMlpTransport> ConnectAsync(Uri endpoint, CancellationToken cancellationToken)
        {
            var started = time.GetUtcNow();
            Starts.Enqueue(started);
            var open = Interlocked.Increment(ref _open);
            for (var most = Volatile.Read(ref _mostOpen); open > most && Interlocked.CompareExchange(ref _mostOpen, open, most) != most; most = Volatile.Read(ref _mostOpen))
            {
            }

            // Closed the moment it is given up on (as a socket is), not when its task unwinds.
            var closed = 0;
            void Close()
            {
                if (Interlocked.Exchange(ref closed, 1) == 0)
                    Interlocked.Decrement(ref _open);
            }

            using var registration = cancellationToken.Register(Close);
            try
            {
                for (var retransmission = 1; Down; retransmission++)
                {
                    var wait = started + TimeSpan.FromSeconds((1 << retransmission) - 1) - time.GetUtcNow();
                    if (wait > TimeSpan.Zero)
                        await Task.Delay(wait, time, cancellationToken);
                }

                return await MlpTransportFactory.Default.ConnectAsync(endpoint, cancellationToken);
            }
            finally
            {
                Close();
            }
        }
    }

    /// <summary>
    /// A client (no HTTP fallback, so calls wait for the link) whose path went silent: its link black-holed at the relay, new connects
    /// held by the <see cref="SilentPath"/>. Entered once the dead link is found and the immediate reconnect attempt got no answer.
    /// </summary>
    private sealed class SilentPathOutage : IAsyncDisposable
    {
        private MlpTestGateway _gateway = null!;
        private LoopbackRelay _relay = null!;

        public FakeTimeProvider Time { get; } = FakeClock.New();

        public SilentPath Path { get; private set; } = null!;

        public MlpClient Client { get; private set; } = null!;

        public static async Task<SilentPathOutage> EnterAsync(string deviceId, Action<MlpWeakNetworkOptions>? configure = null)
        {
            var outage = new SilentPathOutage();
            try
            {
                outage._gateway = await MlpTestGateway.StartAsync();
                outage._relay = LoopbackRelay.Start(outage._gateway.MlpPort);
                outage.Path = new SilentPath(outage.Time);
                var options = outage._gateway.ClientOptions(deviceId, endpoint: outage._relay.Endpoint, time: outage.Time);
                options.HttpFallbackEndpoint = null;
                options.TransportFactory = outage.Path;
                options.WeakNetwork = new MlpWeakNetworkOptions { Hedging = false, Random = new Random(11) };
                configure?.Invoke(options.WeakNetwork);
                outage.Client = new MlpClient(options);
                var attempts = 0;
                outage.Client.ReconnectScheduled += (_, _, _) => Interlocked.Increment(ref attempts);
                await outage.Client.ConnectAsync();
                for (var i = 0; i < 3; i++)
                    await outage.Client.PingAsync();

                outage.Path.Down = true;
                outage._relay.BlackholeAll();
                var probe = outage.Client.PingAsync();
                await Eventually.TrueAsync(() => FakeClock.Step(outage.Time, probe.IsCompleted), "the link is found dead", 30_000);
                await Eventually.TrueAsync(() => FakeClock.Step(outage.Time, Volatile.Read(ref attempts) > 0), "the first attempt times out", 30_000);
                outage.Path.ResetMostOpen();
                return outage;
            }
            catch
            {
                await outage.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (Client is not null)
                await Client.DisposeAsync();
            if (_relay is not null)
                await _relay.DisposeAsync();
            if (_gateway is not null)
                await _gateway.DisposeAsync();
        }
    }
}
