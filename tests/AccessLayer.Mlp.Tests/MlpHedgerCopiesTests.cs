using AccessLayer.Client;
using AccessLayer.Mlp.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace AccessLayer.Mlp.Tests;

/// <summary>
/// The hedger's copies on a lossy path (docs/sdk.md "Copies on a lossy path") against the real gateway: a call sent on the session link
/// and the secondary link at once when the gateway coalesces copies, and not when it does not; a <see cref="LoopbackRelay"/> loses the
/// session link's answers.
/// </summary>
public sealed class MlpHedgerCopiesTests
{
    private static async Task<MlpClient> LossyClientAsync(MlpTestGateway gateway, TestBackend backend, LoopbackRelay relay, FakeTimeProvider time, string device, bool fallback = false)
    {
        var options = gateway.ClientOptions(device, endpoint: relay.Endpoint);
        // No fallback (unless asked for): the copies' only other way is the secondary link.
        if (!fallback)
            options.HttpFallbackEndpoint = null;
        options.TimeProvider = time;
        options.WeakNetwork = new MlpWeakNetworkOptions { AutoReconnect = false, DeadLinkDetection = false, TailLossTrailers = false, GoodRtt = TimeSpan.FromMilliseconds(40) };
        var client = new MlpClient(options);
        await client.ConnectAsync();

        // One 400 ms call: SRTT 50 ms, not Good; then recent calls that say a fifth of them waited for a retransmission.
        var held = client.CallAsync("orders", "held", ReadOnlyMemory<byte>.Empty);
        Assert.True(await backend.HeldArrived.WaitAsync(TimeSpan.FromSeconds(10)));
        time.Advance(TimeSpan.FromMilliseconds(400));
        backend.HeldRelease.Release();
        await held.WaitAsync(TimeSpan.FromSeconds(10));
        foreach (var ms in MlpHedgerTests.Lossy)
            client.Router.CallLatency.Add(TimeSpan.FromMilliseconds(ms));
        Assert.True(client.Router.Hedger.PathIsLossy);

        // An idempotent call on the clean path opens the secondary link ahead (answered at once: on the session link, or on both when the
        // secondary link opened before it was sent, so the tests count copies from here on).
        await client.CallAsync("echo", "warm", "w"u8.ToArray(), new MlpCallOptions { Idempotent = true }).WaitAsync(TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(() => client.SecondaryLinksOpened == 1 && client.Secondary.Current is not null, "the secondary link is opened ahead");
        return client;
    }

    [Fact]
    public async Task On_a_lossy_path_to_a_coalescing_gateway_a_call_goes_on_both_links_at_once_and_the_backend_runs_it_once()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:Routes:orders:Url={backend.Url}"]);
        await using var relay = LoopbackRelay.Start(gateway.MlpPort);
        var time = FakeClock.New();
        await using var client = await LossyClientAsync(gateway, backend, relay, time, "dev-copies");

        // The session link's answers are lost from now on; its requests still arrive.
        using var coalesced = new CoalescedCopies(gateway);
        relay.BlackholeResponsesOfFirstFlow();
        var (duplicated, hedges) = (client.CallsDuplicated, client.HedgesSent);
        var call = client.CallAsync("orders", "count", ReadOnlyMemory<byte>.Empty, new MlpCallOptions { Idempotent = true });

        // Answered with the clock standing still: the copy on the secondary link went out with the first, not after a hedge delay.
        var response = await call.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((200, true, true), (response.Status, response.Hedged, response.AnsweredByHedge));
        Assert.Equal((duplicated + 1, hedges), (client.CallsDuplicated, client.HedgesSent));

        // Both copies reached the gateway (the session link's request was not lost: one joined or was answered from the other), and
        // the backend ran the call once.
        await coalesced.WaitForAsync(1);
        Assert.Equal(1, backend.Counted);
        Assert.Equal("1", System.Text.Encoding.UTF8.GetString(response.Body.Span));
    }

    [Fact]
    public async Task A_link_whose_handshake_says_the_path_is_not_good_opens_its_secondary_link_before_any_call_and_its_first_call_goes_on_both()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:Routes:orders:Url={backend.Url}"]);
        await using var relay = LoopbackRelay.Start(gateway.MlpPort);
        var time = FakeClock.New();
        var options = gateway.ClientOptions("dev-cold", endpoint: relay.Endpoint);
        options.HttpFallbackEndpoint = null;
        options.TimeProvider = time;
        options.WeakNetwork = new MlpWeakNetworkOptions { AutoReconnect = false, DeadLinkDetection = false, TailLossTrailers = false, GoodRtt = TimeSpan.FromMilliseconds(40) };
        await using var client = new MlpClient(options);
        // What the SDK knew of the path before this link (a 400 ms round trip); the handshake on the standing fake clock adds a 0 ms
        // sample, so SRTT is 350 ms: not Good.
        client.Rtt.AddSample(TimeSpan.FromMilliseconds(400));
        await client.ConnectAsync();

        // No call yet: the secondary link is opened from the handshake's evidence alone.
        await Eventually.TrueAsync(() => client.SecondaryLinksOpened == 1 && client.Secondary.Current is not null, "the secondary link is opened at link-up");
        Assert.Equal(0, client.Router.CallLatency.Count);

        // The first call, before any answered call says whether the path loses segments, goes on both links; the gateway runs it once.
        relay.BlackholeResponsesOfFirstFlow();
        var response = await client.CallAsync("orders", "count", ReadOnlyMemory<byte>.Empty, new MlpCallOptions { Idempotent = true }).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((200, true, true), (response.Status, response.Hedged, response.AnsweredByHedge));
        Assert.Equal(1, client.CallsDuplicated);
        Assert.Equal(1, backend.Counted);
    }

    [Fact]
    public async Task While_a_copy_on_the_session_link_is_unanswered_past_three_times_the_hedge_delay_the_next_call_s_fallback_copy_goes_at_once()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:Routes:orders:Url={backend.Url}"]);
        await using var relay = LoopbackRelay.Start(gateway.MlpPort);
        var time = FakeClock.New();
        await using var client = await LossyClientAsync(gateway, backend, relay, time, "dev-stalled", fallback: true);
        Assert.NotNull(client.Options.HttpFallbackEndpoint);

        // The session link's answers stop (its stream waits for a retransmission): a call is answered on the secondary link, its copy on
        // the session link stays unanswered.
        relay.BlackholeResponsesOfFirstFlow();
        var hedges = client.HedgesSent;
        Assert.Equal(200, (await client.CallAsync("orders", "count", ReadOnlyMemory<byte>.Empty, new MlpCallOptions { Idempotent = true }).WaitAsync(TimeSpan.FromSeconds(10))).Status);
        Assert.Equal((hedges, 0L), (client.HedgesSent, client.Router.Hedger.PastStalledLink));

        // 1.2 s later that copy is still unanswered: more than three times the hedge delay (50 ms here: the first answers took 0 ms). The next call's fallback copy goes with its two
        // copies, the clock standing still; the backend still runs each call once.
        time.Advance(TimeSpan.FromMilliseconds(1200));
        Assert.True(client.CurrentLink!.OldestUnansweredAge() >= TimeSpan.FromMilliseconds(1200));
        var response = await client.CallAsync("orders", "count", ReadOnlyMemory<byte>.Empty, new MlpCallOptions { Idempotent = true }).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(200, response.Status);
        Assert.Equal((hedges + 1, 1L), (client.HedgesSent, client.Router.Hedger.PastStalledLink));
        await Eventually.TrueAsync(() => backend.Counted == 2, "the backend runs the second call once");
        await Task.Delay(200);
        Assert.Equal(2, backend.Counted);
    }

    [Fact]
    public async Task A_gateway_that_does_not_coalesce_gets_no_copies_at_once_and_no_call_id()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:Routes:orders:Url={backend.Url}", "--Mlp:CallCoalescingWindow=00:00:00"]);
        await using var relay = LoopbackRelay.Start(gateway.MlpPort);
        var time = FakeClock.New();
        await using var client = await LossyClientAsync(gateway, backend, relay, time, "dev-no-copies");

        var response = await client.CallAsync("orders", "headers", ReadOnlyMemory<byte>.Empty, new MlpCallOptions { Idempotent = true }).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(200, response.Status);
        Assert.Equal(0, client.CallsDuplicated);
        Assert.DoesNotContain(response.Headers, h => h.Name == "seen-mlp-call-id");
    }

    [Fact]
    public async Task A_call_to_a_coalescing_gateway_on_a_path_that_is_not_good_carries_a_call_id_the_backend_sees()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:Routes:orders:Url={backend.Url}"]);
        await using var relay = LoopbackRelay.Start(gateway.MlpPort);
        var time = FakeClock.New();
        await using var client = await LossyClientAsync(gateway, backend, relay, time, "dev-call-id");

        var duplicated = client.CallsDuplicated;
        var response = await client.CallAsync("orders", "headers", ReadOnlyMemory<byte>.Empty, new MlpCallOptions { Idempotent = true }).WaitAsync(TimeSpan.FromSeconds(10));
        var id = Assert.Single(response.Headers, h => h.Name == "seen-mlp-call-id").Value;
        Assert.Equal(16, id.Length);
        Assert.Equal(duplicated + 1, client.CallsDuplicated);
    }
}
