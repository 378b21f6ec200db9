using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using AccessLayer.Client;
using AccessLayer.Client.Transport;
using AccessLayer.Mlp.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace AccessLayer.Mlp.Tests;

/// <summary>
/// The SDK's weak-network strategies wired into <see cref="MlpClient"/>, against the real gateway over
/// loopback, with a <see cref="LoopbackRelay"/> in the path playing the network that fails.
/// </summary>
public sealed class MlpClientWeakNetworkTests(ITestOutputHelper output)
{

    [Fact]
    public async Task A_black_holed_link_is_found_dead_by_a_missing_PONG_and_replaced_within_3_SRTT_plus_1_s()
    {
        // One-second beats so the test does not wait for the next one; the real clock, because the bound is about real time.
        await using var gateway = await MlpTestGateway.StartAsync(["--Mlp:HeartbeatIntervalSeconds=1", "--Mlp:HeartbeatMinIntervalSeconds=1", "--Mlp:HeartbeatMaxIntervalSeconds=1"]);
        await using var relay = LoopbackRelay.Start(gateway.MlpPort);
        var options = gateway.ClientOptions("dev-blackhole", endpoint: relay.Endpoint);
        options.EnableHeartbeat = true;
        options.WeakNetwork = new MlpWeakNetworkOptions();
        await using var client = new MlpClient(options);
        var reconnected = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Reconnected += _ => reconnected.TrySetResult(Stopwatch.GetTimestamp());
        await client.ConnectAsync();
        for (var i = 0; i < 8; i++)
            await client.PingAsync();
        var srtt = client.SmoothedRtt;

        // Both sockets stay open: TCP on its own would not notice for minutes.
        relay.BlackholeAll();
        var replacedAt = await reconnected.Task.WaitAsync(TimeSpan.FromSeconds(15));

        Assert.NotEqual(0, relay.FirstDroppedTimestamp);
        var sinceUnansweredPing = Stopwatch.GetElapsedTime(relay.FirstDroppedTimestamp, replacedAt);
        output.WriteLine($"SRTT {srtt.TotalMilliseconds:0.00} ms, RTTVAR {client.RttVariation.TotalMilliseconds:0.00} ms; replaced {sinceUnansweredPing.TotalMilliseconds:0} ms after the unanswered PING");
        Assert.True(sinceUnansweredPing <= 3 * srtt + TimeSpan.FromSeconds(1), $"replaced {sinceUnansweredPing.TotalMilliseconds:0} ms after the unanswered PING (SRTT {srtt.TotalMilliseconds:0.0} ms)");
        Assert.Equal(2, relay.Accepted);
        Assert.True(client.IsConnected);
        Assert.True(client.SessionResumed);
        Assert.Equal(200, (await client.CallAsync("echo", "after", "alive"u8.ToArray())).Status);
    }

    [Fact]
    public async Task The_time_the_gateway_holds_a_HELLO_is_no_round_trip_so_a_slow_session_open_leaves_a_good_path_good()
    {
        // The gateway takes 400 ms (of the clock client and gateway share) to open the session, as a cold or busy fleet may.
        FakeTimeProvider? clock = null;
        await using var gateway = await MlpTestGateway.StartAsync(services: services => SlowOpeningSessionStore.Register(services, () =>
        {
            clock!.Advance(TimeSpan.FromMilliseconds(400));
            return ValueTask.CompletedTask;
        }));
        clock = gateway.Time;
        var options = gateway.ClientOptions("dev-held-hello", time: gateway.Time);
        options.WeakNetwork = new MlpWeakNetworkOptions();
        await using var client = new MlpClient(options);

        await client.ConnectAsync();

        // Loopback takes no time on the shared clock: all of the 400 ms was the gateway's, and WELCOME said so.
        Assert.Equal(TimeSpan.Zero, client.SmoothedRtt);
        Assert.Equal(200, (await client.CallAsync("echo", "after", "x"u8.ToArray())).Status);
        Assert.Equal(0, client.SecondaryLinksOpened);
    }

    [Fact]
    public async Task A_call_that_hears_nothing_probes_with_a_PING_and_the_dead_link_is_replaced()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var relay = LoopbackRelay.Start(gateway.MlpPort);
        var time = FakeClock.New();
        var options = gateway.ClientOptions("dev-silent-call", endpoint: relay.Endpoint, time: time);
        options.WeakNetwork = new MlpWeakNetworkOptions();
        await using var client = new MlpClient(options);
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Reconnected += _ => reconnected.TrySetResult();
        await client.ConnectAsync();
        for (var i = 0; i < 3; i++)
            await client.PingAsync(); // RTT 0 on the fake clock: the wait for a PONG is the 750 ms floor

        // No heartbeat runs here: only the call can notice.
        relay.BlackholeAll();
        var call = client.CallAsync("echo", "lost", "into the void"u8.ToArray());
        await Eventually.TrueAsync(() => relay.Dropped == 1, "the request is swallowed");

        // The clock moves in 50 ms steps (the call's watch is armed just after its bytes left, so a step
        // may land before it): an RTO of silence (SRTT + 4×RTTVAR, at least 200 ms), a probe PING, 750 ms without its PONG, replaced.
        await Eventually.TrueAsync(() => FakeClock.Step(time, relay.Dropped == 2), "a probe PING follows the silence");
        await Eventually.TrueAsync(() => FakeClock.Step(time, reconnected.Task.IsCompleted), "the link is replaced");
        Assert.InRange(time.GetUtcNow() - FakeClock.Start, TimeSpan.FromMilliseconds(950), TimeSpan.FromMilliseconds(1100));
        var lost = await Assert.ThrowsAsync<MlpException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(lost.NotProcessed); // sent on the dead link: its fate is unknown
        Assert.Equal(2, relay.Accepted);
        Assert.Equal(200, (await client.CallAsync("echo", "again", "here"u8.ToArray())).Status);
    }

    [Theory]
    [InlineData(false, 1600)]
    [InlineData(true, 2600)]
    public async Task On_a_path_whose_calls_wait_for_retransmissions_a_call_probe_gives_the_PONG_time_for_two_of_them_before_the_link_is_dropped(bool lossy, int expectedMs)
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var relay = LoopbackRelay.Start(gateway.MlpPort);
        var time = FakeClock.New();
        var options = gateway.ClientOptions(lossy ? "dev-lossy-pong" : "dev-clean-pong", endpoint: relay.Endpoint, time: time);
        options.HttpFallbackEndpoint = null;
        options.WeakNetwork = new MlpWeakNetworkOptions { HedgeLink = false, TailLossTrailers = false };
        await using var client = new MlpClient(options);
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Reconnected += _ => reconnected.TrySetResult();
        await client.ConnectAsync();
        // A 400 ms path (SRTT 400 ms, RTTVAR near 0): the call's silence probe goes after SRTT + 4 × RTTVAR = 400 ms, and its PONG is
        // given 3 × SRTT + 4 × RTTVAR = 1.2 s (one TCP retransmission) or, where one call in five waited for a retransmission (a 400 ms
        // path losing 10 % each way), SRTT + 3 × TCP's RTO (SRTT + 200 ms) = 2.2 s (two).
        for (var i = 0; i < 100; i++)
            client.Rtt.AddSample(TimeSpan.FromMilliseconds(400));
        if (lossy)
        {
            foreach (var ms in new double[] { 410, 405, 1020, 415, 400, 420, 1610, 405, 410, 1000, 412, 408, 1240, 401, 409, 411, 403, 417, 406, 404 })
                client.Router.CallLatency.Add(TimeSpan.FromMilliseconds(ms));
        }

        relay.BlackholeResponses();
        var start = time.GetUtcNow();
        var call = client.CallAsync("echo", "unanswered", "x"u8.ToArray(), new MlpCallOptions { Timeout = TimeSpan.FromSeconds(30) });
        await Eventually.TrueAsync(() => FakeClock.Step(time, reconnected.Task.IsCompleted, 10), "the link is dropped and replaced", 30_000);
        var took = time.GetUtcNow() - start;
        Assert.InRange(took.TotalMilliseconds, expectedMs, expectedMs + 30);
        await Assert.ThrowsAsync<MlpException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));

        // A PING of its own (as a heartbeat or the idle link check) keeps the shorter wait: on an idle link a missing PONG is a forgotten flow.
        // After the new link's HELLO sample (0 ms on this clock: SRTT 350 ms, RTTVAR 100 ms) that is 3 × SRTT + 4 × RTTVAR = 1.45 s, where
        // a probe on the lossy path would get 350 + 3 × 750 = 2.6 s.
        relay.BlackholeResponses();
        var pingStart = time.GetUtcNow();
        var ping = client.PingAsync();
        await Eventually.TrueAsync(() => FakeClock.Step(time, ping.IsCompleted, 10), "the PING times out", 30_000);
        await Assert.ThrowsAsync<TimeoutException>(() => ping);
        Assert.InRange((time.GetUtcNow() - pingStart).TotalMilliseconds, 1450, 1480);
    }

    [Fact]
    public async Task A_call_given_up_on_does_not_probe_the_link()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:Routes:orders:Url={backend.Url}"]);
        await using var relay = LoopbackRelay.Start(gateway.MlpPort);
        var time = FakeClock.New();
        var options = gateway.ClientOptions("dev-given-up", endpoint: relay.Endpoint, time: time);
        options.WeakNetwork = new MlpWeakNetworkOptions();
        await using var client = new MlpClient(options);
        await client.ConnectAsync();

        // A call its caller gives up on (as a hedged call gives up on its first copy when the hedge answers first).
        using var giveUp = new CancellationTokenSource();
        var call = client.CallAsync("orders", "held", ReadOnlyMemory<byte>.Empty, cancellationToken: giveUp.Token);
        Assert.True(await backend.HeldArrived.WaitAsync(TimeSpan.FromSeconds(10)));
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));

        // The link then hears nothing for seconds: nothing is owed on it, so no probe PING (it would go unanswered here and
        // the link would be dropped; on a lossy path a PONG lost twice does the same to a live link).
        relay.BlackholeAll();
        for (var i = 0; i < 60; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.Delay(5);
        }

        Assert.Equal(0, relay.Dropped);
        Assert.True(client.IsConnected);
        backend.HeldRelease.Release();
    }

    [Fact]
    public async Task A_busy_link_that_never_sent_a_PING_is_found_dead_within_3_SRTT_plus_1_s_of_its_first_unanswered_call()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var relay = LoopbackRelay.Start(gateway.MlpPort);
        var time = FakeClock.New();
        var options = gateway.ClientOptions("dev-busy", endpoint: relay.Endpoint, time: time);
        options.WeakNetwork = new MlpWeakNetworkOptions();
        await using var client = new MlpClient(options);
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Reconnected += _ => reconnected.TrySetResult();
        await client.ConnectAsync();
        // No PING and no heartbeat: a busy link's RTT comes from its HELLO/WELCOME and its calls (all 0 ms on this clock).
        for (var i = 0; i < 3; i++)
            Assert.Equal(200, (await client.CallAsync("echo", "busy", "x"u8.ToArray())).Status);

        relay.BlackholeAll();
        var sent = time.GetUtcNow();
        var call = client.CallAsync("echo", "lost", "into the void"u8.ToArray());
        await Eventually.TrueAsync(() => relay.Dropped == 1, "the request is swallowed");

        // 10 ms steps: silence for the 200 ms RTO floor, a probe PING at once, 750 ms without any byte back, replaced.
        await Eventually.TrueAsync(() => FakeClock.Step(time, reconnected.Task.IsCompleted, 10), "the link is replaced", 30_000);
        var took = time.GetUtcNow() - sent;
        output.WriteLine($"replaced {took.TotalMilliseconds:0} ms after the unanswered call (SRTT {client.SmoothedRtt.TotalMilliseconds:0} ms)");
        Assert.True(took <= 3 * client.SmoothedRtt + TimeSpan.FromSeconds(1), $"replaced {took.TotalMilliseconds:0} ms after the unanswered call");
        Assert.Equal(2, relay.Dropped); // the call and one probe PING
        await Assert.ThrowsAsync<MlpException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_call_whose_link_heard_an_earlier_answer_after_it_was_sent_is_still_probed_once_the_link_falls_silent()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:Routes:orders:Url={backend.Url}"]);
        await using var relay = LoopbackRelay.Start(gateway.MlpPort);
        var time = FakeClock.New();
        var options = gateway.ClientOptions("dev-rearm", endpoint: relay.Endpoint, time: time);
        options.HttpFallbackEndpoint = null;
        options.WeakNetwork = new MlpWeakNetworkOptions();
        await using var client = new MlpClient(options);
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Reconnected += _ => reconnected.TrySetResult();
        await client.ConnectAsync();

        // Two calls out; the first one's answer comes in after the second was sent, then the path goes silent.
        var first = client.CallAsync("orders", "held", ReadOnlyMemory<byte>.Empty, new MlpCallOptions { Timeout = TimeSpan.FromSeconds(30) });
        var second = client.CallAsync("orders", "held", ReadOnlyMemory<byte>.Empty, new MlpCallOptions { Timeout = TimeSpan.FromSeconds(30) });
        Assert.True(await backend.HeldArrived.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(await backend.HeldArrived.WaitAsync(TimeSpan.FromSeconds(10)));
        time.Advance(TimeSpan.FromMilliseconds(100));
        backend.HeldRelease.Release(); // one of the two (the backend's waiters are not ordered)
        var answered = await Task.WhenAny(first, second).WaitAsync(TimeSpan.FromSeconds(10));
        var pending = answered == first ? second : first;
        var heard = time.GetUtcNow();
        relay.BlackholeAll();
        backend.HeldRelease.Release();

        // Silent for an RTO since those last bytes (not since the second call's send): a probe, no PONG, replaced.
        await Eventually.TrueAsync(() => FakeClock.Step(time, reconnected.Task.IsCompleted, 10), "the link is replaced", 30_000);
        var took = time.GetUtcNow() - heard;
        Assert.True(took <= TimeSpan.FromSeconds(1.1), $"replaced {took.TotalMilliseconds:0} ms after the last bytes came in");
        await Assert.ThrowsAsync<MlpException>(() => pending.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_call_after_an_idle_period_the_path_has_not_proven_is_preceded_by_a_PING_and_goes_on_a_fresh_link_when_the_NAT_forgot_the_old_one()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:Routes:orders:Url={backend.Url}"]);
        var time = FakeClock.New();
        await using var relay = LoopbackRelay.Start(gateway.MlpPort, time, TimeSpan.FromSeconds(15));
        var options = gateway.ClientOptions("dev-idle-check", endpoint: relay.Endpoint, time: time);
        options.HttpFallbackEndpoint = null; // the call must go on the fresh link
        options.WeakNetwork = new MlpWeakNetworkOptions();
        await using var client = new MlpClient(options);
        await client.ConnectAsync();
        Assert.Equal("1", Encoding.UTF8.GetString((await client.CallAsync("orders", "count", ReadOnlyMemory<byte>.Empty)).Body.Span));

        // 20 s without a byte: the NAT (15 s) forgot the flow. The call is a side effect, not idempotent: it may be sent only where it arrives.
        time.Advance(TimeSpan.FromSeconds(20));
        var call = client.CallAsync("orders", "count", ReadOnlyMemory<byte>.Empty);
        await Eventually.TrueAsync(() => FakeClock.Step(time, call.IsCompleted), "the call ends", 30_000);

        var response = await call;
        Assert.Equal("2", Encoding.UTF8.GetString(response.Body.Span));
        Assert.Equal(2, backend.Counted);
        Assert.Equal(1, relay.Dropped); // only the check's PING went into the dead flow
        Assert.Equal(2, relay.Accepted);
        Assert.Equal(0, client.RetriesSent);

        // 5 s idle is below the 10 s floor: straight on the link, no PING first.
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal("3", Encoding.UTF8.GetString((await client.CallAsync("orders", "count", ReadOnlyMemory<byte>.Empty)).Body.Span));
        Assert.Equal(1, relay.Dropped);
    }

    [Fact]
    public async Task While_the_path_is_down_calls_wait_for_the_link_and_go_on_it_soon_after_the_path_returns()
    {
        await using var tunnel = await Tunnel.EnterAsync("dev-subway");
        var (time, client, attempts) = (tunnel.Time, tunnel.Client, tunnel.Attempts);

        // 30 s in the tunnel: reconnect attempts keep timing out; a call made in it waits for the link.
        var call = client.CallAsync("echo", "in-the-tunnel", "x"u8.ToArray(), new MlpCallOptions { Timeout = TimeSpan.FromSeconds(60) });
        var tunnelEnds = time.GetUtcNow() + TimeSpan.FromSeconds(30);
        await Eventually.TrueAsync(() => FakeClock.Step(time, time.GetUtcNow() >= tunnelEnds, 100), "the tunnel lasts", 60_000);
        Assert.False(call.IsCompleted);
        Assert.Equal(0, tunnel.FallbackRelay.Accepted); // not sent into the dead path's fallback, where it would sit in the SYN backoff

        tunnel.End();
        var back = time.GetUtcNow();
        await Eventually.TrueAsync(() => FakeClock.Step(time, call.IsCompleted, 50), "the call is answered", 60_000);
        var response = await call;
        var after = time.GetUtcNow() - back;
        output.WriteLine($"answered {after.TotalMilliseconds:0} ms after the path returned; backoff waits {string.Join(", ", attempts.Select(d => d.TotalMilliseconds.ToString("0")))} ms");
        Assert.Equal("tcp", response.Transport);
        // At worst the attempt under way when the path returned times out (2 s) and the next follows within the 2 s cap.
        Assert.True(after <= TimeSpan.FromSeconds(4.1), $"answered {after.TotalMilliseconds:0} ms after the path returned");
        Assert.All(attempts.Skip(1), d => Assert.True(d <= TimeSpan.FromSeconds(2), $"a wait of {d.TotalMilliseconds:0} ms"));
    }

    [Fact]
    public async Task While_a_call_waits_for_the_link_in_a_tunnel_reconnect_attempts_follow_each_other_within_the_owed_cap()
    {
        await using var tunnel = await Tunnel.EnterAsync("dev-owed");
        var (time, client, attempts) = (tunnel.Time, tunnel.Client, tunnel.Attempts);

        // A call waits for the link from here; the wait already scheduled before it ran is the last one of the idle schedule.
        var call = client.CallAsync("echo", "owed", "x"u8.ToArray(), new MlpCallOptions { Timeout = TimeSpan.FromSeconds(60) });
        var before = attempts.Count;
        var tunnelEnds = time.GetUtcNow() + TimeSpan.FromSeconds(20);
        await Eventually.TrueAsync(() => FakeClock.Step(time, time.GetUtcNow() >= tunnelEnds, 50), "the tunnel lasts", 60_000);
        Assert.False(call.IsCompleted);
        var owed = attempts.Skip(before).ToList();
        output.WriteLine($"waits while the call was owed: {string.Join(", ", owed.Select(d => d.TotalMilliseconds.ToString("0")))} ms");
        // 2 s attempts back to back: about nine in 20 s (with the 2 s cap's jitter instead, about six).
        Assert.True(owed.Count >= 8, $"{owed.Count} attempts in 20 s");
        Assert.All(owed, d => Assert.True(d <= TimeSpan.FromMilliseconds(250), $"a wait of {d.TotalMilliseconds:0} ms"));

        tunnel.End();
        var back = time.GetUtcNow();
        await Eventually.TrueAsync(() => FakeClock.Step(time, call.IsCompleted, 50), "the call is answered", 60_000);
        await call;
        var after = time.GetUtcNow() - back;
        // At worst the attempt under way times out (2 s) and the next follows within 250 ms.
        Assert.True(after <= TimeSpan.FromSeconds(2.4), $"answered {after.TotalMilliseconds:0} ms after the path returned");
    }

    [Theory]
    [InlineData(true, 2000)]
    [InlineData(false, 10_000)]
    public async Task A_connect_that_hears_nothing_gives_up_after_the_dynamic_connect_timeout(bool dynamic, int expectedMs)
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var relay = LoopbackRelay.Start(gateway.MlpPort);
        var time = FakeClock.New();
        var options = gateway.ClientOptions("dev-connect", endpoint: relay.Endpoint, time: time);
        options.ConnectTimeout = TimeSpan.FromSeconds(10);
        options.WeakNetwork = new MlpWeakNetworkOptions { AutoReconnect = false, DynamicTimeouts = dynamic };
        await using var client = new MlpClient(options);
        await client.ConnectAsync();
        for (var i = 0; i < 3; i++)
            await client.PingAsync(); // a Good path with RTT 0 on the fake clock: 2 s + 4 × 0

        // The TCP connect succeeds, the HELLO is swallowed.
        relay.SwallowNewFlows = true;
        var before = time.GetUtcNow();
        var connect = client.ConnectAsync();
        await Eventually.TrueAsync(() => FakeClock.Step(time, connect.IsCompleted), "the connect gives up", timeoutMs: 30_000);

        await Assert.ThrowsAsync<TimeoutException>(() => connect);
        Assert.InRange((time.GetUtcNow() - before).TotalMilliseconds, expectedMs, expectedMs + 100);
        Assert.Equal(2, relay.Accepted);
    }

    [Theory]
    [InlineData(45, 36, 44.999)]
    [InlineData(0, 300, 300)]
    public async Task Smart_heartbeat_settles_below_the_NATs_idle_timeout_or_at_the_servers_maximum_and_the_link_never_silently_dies(int natIdleSeconds, double lowest, double highest)
    {
        // The gateway's default policy: start 60 s, [30 s, 300 s], step 30 s, 3 answered beats per step.
        await using var gateway = await MlpTestGateway.StartAsync();
        var time = FakeClock.New();
        await using var relay = LoopbackRelay.Start(gateway.MlpPort, natIdleSeconds > 0 ? time : null, TimeSpan.FromSeconds(natIdleSeconds));
        var options = gateway.ClientOptions("dev-nat", endpoint: relay.Endpoint, time: time);
        options.EnableHeartbeat = true;
        options.WeakNetwork = new MlpWeakNetworkOptions { NetworkId = "wifi-behind-nat" };
        await using var client = new MlpClient(options);
        var beats = Channel.CreateUnbounded<bool>();
        client.HeartbeatCompleted += answered => beats.Writer.TryWrite(answered);
        await client.ConnectAsync();

        var failures = new List<int>();
        for (var beat = 0; beat < 40; beat++)
        {
            var dropped = relay.Dropped;
            time.Advance(client.HeartbeatInterval);
            await Eventually.TrueAsync(() => beats.Reader.Count > 0 || relay.Dropped > dropped, $"beat {beat} went out");
            if (beats.Reader.TryRead(out var answered))
            {
                Assert.True(answered);
                continue;
            }

            // The NAT swallowed the PING: no PONG within the dead-link timeout (the server's 10 s before any RTT sample) and the link is replaced at once.
            var accepted = relay.Accepted;
            time.Advance(TimeSpan.FromSeconds(10));
            Assert.False(await beats.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
            await Eventually.TrueAsync(() => client.IsConnected && relay.Accepted == accepted + 1, $"the link dead at beat {beat} is replaced");
            failures.Add(beat);
        }

        output.WriteLine($"settled at {client.HeartbeatInterval.TotalSeconds} s; failed beats: {string.Join(", ", failures)}");
        Assert.InRange(client.HeartbeatInterval.TotalSeconds, lowest, highest);
        Assert.True(failures.Count <= 3, $"{failures.Count} failed beats");
        Assert.True(failures.TrueForAll(beat => beat < 20), $"still failing later: beats {string.Join(", ", failures)}");
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task Reconnect_attempts_against_a_closed_port_follow_the_capped_jittered_schedule_on_the_clock()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var relay = LoopbackRelay.Start(gateway.MlpPort);
        var time = FakeClock.New();
        var attempts = new ConcurrentQueue<DateTimeOffset>();
        var options = gateway.ClientOptions("dev-backoff", endpoint: relay.Endpoint, time: time);
        options.TransportFactory = new RecordingTransportFactory(time, attempts);
        options.WeakNetwork = new MlpWeakNetworkOptions
        {
            ReconnectBaseDelay = TimeSpan.FromSeconds(1),
            ReconnectMaxDelay = TimeSpan.FromSeconds(4),
            Random = new Random(7),
        };
        await using var client = new MlpClient(options);
        var scheduled = Channel.CreateUnbounded<(int Attempt, TimeSpan Delay)>();
        client.ReconnectScheduled += (_, attempt, delay) => scheduled.Writer.TryWrite((attempt, delay));
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Reconnected += _ => reconnected.TrySetResult();
        await client.ConnectAsync();
        attempts.Clear();
        var lostAt = time.GetUtcNow();

        relay.StopListening();
        relay.ResetAll();

        var replica = new Random(7);
        int[] ceilings = [1, 2, 4, 4, 4, 4];
        var elapsed = TimeSpan.Zero;
        for (var n = 0; n < ceilings.Length; n++)
        {
            var (attempt, delay) = await scheduled.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(n + 1, attempt);
            Assert.Equal(TimeSpan.FromSeconds(ceilings[n]) * replica.NextDouble(), delay);
            Assert.Equal(n, attempts.Count);

            time.Advance(delay);
            elapsed += delay;
            await Eventually.TrueAsync(() => attempts.Count == n + 1, $"attempt {n + 1} follows its wait");
            Assert.Equal(lostAt + elapsed, attempts.Last());
        }

        // The port opens again: the attempt after the next wait succeeds and the schedule resets.
        var (_, last) = await scheduled.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        relay.Resume();
        time.Advance(last);
        await reconnected.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(client.IsConnected);
        Assert.Equal(lostAt + elapsed + last, attempts.Last());
    }

    [Fact]
    public async Task A_network_change_replaces_the_link_at_once()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var relay = LoopbackRelay.Start(gateway.MlpPort);
        // A fake clock that never moves: a backoff wait, however short, would never end.
        var time = FakeClock.New();
        var options = gateway.ClientOptions("dev-roaming", endpoint: relay.Endpoint, time: time);
        options.WeakNetwork = new MlpWeakNetworkOptions { NetworkId = "wifi-home" };
        await using var client = new MlpClient(options);
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Reconnected += _ => reconnected.TrySetResult();
        await client.ConnectAsync();

        client.NotifyNetworkChanged("46001", "cellular");

        await reconnected.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, relay.Accepted);
        Assert.True(client.IsConnected);
        Assert.True(client.SessionResumed);
        Assert.Equal(FakeClock.Start, time.GetUtcNow());
    }

    [Fact]
    public async Task A_call_without_a_deadline_times_out_after_the_dynamic_timeout_not_the_default()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:Routes:orders:Url={backend.Url}"]);
        var time = FakeClock.New();
        var options = gateway.ClientOptions("dev-dynamic", time: time);
        options.DefaultTimeout = TimeSpan.FromSeconds(30);
        // No probe PING while the fake clock jumps: this test is about the call's own wait.
        options.WeakNetwork = new MlpWeakNetworkOptions { AutoReconnect = false, DeadLinkDetection = false, ServerAllowance = TimeSpan.FromSeconds(5) };
        await using var client = new MlpClient(options);
        var qualities = new ConcurrentQueue<NetworkQuality>();
        client.QualityChanged += (_, quality) => qualities.Enqueue(quality);
        await client.ConnectAsync();
        for (var i = 0; i < 3; i++)
            await client.PingAsync(); // no fake time passes: SRTT 0, a Good path
        Assert.Contains(NetworkQuality.Good, qualities);

        var call = client.CallAsync("orders", "slow", ReadOnlyMemory<byte>.Empty);
        await backend.SlowRequestArrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));
        Assert.False(call.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));

        // Good path: 5 s allowance + 1 × (SRTT + 4·RTTVAR) = 5 s, well inside the 30 s default.
        Assert.Same(call, await Task.WhenAny(call, Task.Delay(TimeSpan.FromSeconds(10))));
        await Assert.ThrowsAsync<TimeoutException>(() => call);
        Assert.True(client.IsConnected);
    }


    /// <summary>The default transports, with the fake-clock time of every connect attempt written down.</summary>
    private sealed class RecordingTransportFactory(TimeProvider time, ConcurrentQueue<DateTimeOffset> attempts) : IMlpTransportFactory
    {
        public ValueTask<IMlpTransport> ConnectAsync(Uri endpoint, CancellationToken cancellationToken)
        {
            attempts.Enqueue(time.GetUtcNow());
            return MlpTransportFactory.Default.ConnectAsync(endpoint, cancellationToken);
        }
    }

    /// <summary>
    /// A client whose path went into a tunnel: nothing passes, new connections included (accepted, then silent); the
    /// fallback crosses the same path (a relay to the gateway's HTTP port that goes silent with it). Entered once the
    /// dead link is found and the immediate reconnect attempt (2 s connect timeout) got no answer: the path looks down.
    /// </summary>
    private sealed class Tunnel : IAsyncDisposable
    {
        private MlpTestGateway _gateway = null!;
        private LoopbackRelay _relay = null!;

        public FakeTimeProvider Time { get; } = FakeClock.New();

        public ConcurrentQueue<TimeSpan> Attempts { get; } = new();

        public LoopbackRelay FallbackRelay { get; private set; } = null!;

        public MlpClient Client { get; private set; } = null!;

        public static async Task<Tunnel> EnterAsync(string deviceId)
        {
            var tunnel = new Tunnel();
            try
            {
                tunnel._gateway = await MlpTestGateway.StartAsync();
                tunnel._relay = LoopbackRelay.Start(tunnel._gateway.MlpPort);
                tunnel.FallbackRelay = LoopbackRelay.Start(tunnel._gateway.HttpPort);
                var options = tunnel._gateway.ClientOptions(deviceId, endpoint: tunnel._relay.Endpoint, fallback: tunnel.FallbackRelay, time: tunnel.Time);
                options.WeakNetwork = new MlpWeakNetworkOptions { Hedging = false, Random = new Random(11) };
                tunnel.Client = new MlpClient(options);
                tunnel.Client.ReconnectScheduled += (_, _, delay) => tunnel.Attempts.Enqueue(delay);
                await tunnel.Client.ConnectAsync();
                for (var i = 0; i < 3; i++)
                    await tunnel.Client.PingAsync();

                tunnel._relay.BlackholeAll();
                tunnel._relay.SwallowNewFlows = true;
                tunnel.FallbackRelay.SwallowNewFlows = true;
                var probe = tunnel.Client.PingAsync();
                await Eventually.TrueAsync(() => FakeClock.Step(tunnel.Time, probe.IsCompleted), "the link is found dead", 30_000);
                await Eventually.TrueAsync(() => FakeClock.Step(tunnel.Time, !tunnel.Attempts.IsEmpty), "the first attempt times out", 30_000);
                return tunnel;
            }
            catch
            {
                await tunnel.DisposeAsync();
                throw;
            }
        }

        /// <summary>The path returns: new connections pass again.</summary>
        public void End()
        {
            _relay.SwallowNewFlows = false;
            FallbackRelay.SwallowNewFlows = false;
        }

        public async ValueTask DisposeAsync()
        {
            if (Client is not null)
                await Client.DisposeAsync();
            if (FallbackRelay is not null)
                await FallbackRelay.DisposeAsync();
            if (_relay is not null)
                await _relay.DisposeAsync();
            if (_gateway is not null)
                await _gateway.DisposeAsync();
        }
    }
}
