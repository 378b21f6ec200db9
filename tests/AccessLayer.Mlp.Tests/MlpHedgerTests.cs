using AccessLayer.Client;

namespace AccessLayer.Mlp.Tests;

/// <summary>
/// The hedge's budget share and delay (<c>MlpHedger</c>, docs/sdk.md "Retries and hedging") from the latencies of answered calls;
/// the hedges themselves, against the real gateway, are in <see cref="MlpClientResilienceTests"/>.
/// </summary>
public sealed class MlpHedgerTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    // A 400 ms path losing 10 % each way: about one call in five waits for a retransmission.
    internal static readonly double[] Lossy = [410, 405, 1020, 415, 400, 420, 1610, 405, 410, 1000, 412, 408, 1240, 401, 409, 411, 403, 417, 406, 404];

    private static MlpClient Client() => new(new MlpClientOptions { Endpoint = new Uri("tcp://127.0.0.1:1"), DeviceId = "hedger" });

    [Fact]
    public async Task A_path_whose_calls_wait_for_retransmissions_gets_the_weak_budget_share_and_a_clean_one_the_normal_share()
    {
        await using var client = Client();
        var hedger = client.Router.Hedger;
        // Spread but no call past twice the median: jitter, not loss.
        for (var ms = 100; ms < 300; ms += 10)
            client.Router.CallLatency.Add(Ms(ms));
        Assert.Equal(0.1, hedger.BudgetRatio);
        // A wide spread: the 190 ms median + 4 × its 50 ms MAD, above 1.2 × the median.
        Assert.Equal(Ms(390), hedger.ExpectedDelay());

        foreach (var ms in Lossy)
            client.Router.CallLatency.Add(Ms(ms));
        Assert.Equal(0.4, hedger.BudgetRatio);
    }

    [Fact]
    public async Task On_a_lossy_path_the_hedge_waits_for_the_calls_that_lost_nothing_and_no_longer()
    {
        await using var client = Client();
        foreach (var ms in Lossy)
            client.Router.CallLatency.Add(Ms(ms));

        // The calls that lost nothing are tight (410 ms median, 5 ms MAD: 430 ms), so the floor of 1.2 × the median holds: 492 ms, well
        // before the retransmitted calls' second or more, so a copy on another TCP stream can still beat them. Even with a third of the
        // calls slow it stays there, where a high quantile (the 70th, the 90th) would be a retransmitted call itself.
        Assert.Equal(Ms(492), client.Router.Hedger.ExpectedDelay());
        foreach (var ms in new double[] { 1100, 1200, 1150, 1300, 1250, 1210 })
            client.Router.CallLatency.Add(Ms(ms));
        Assert.Equal(Ms(494.4), client.Router.Hedger.ExpectedDelay()); // 10 of 26 slow: 1.2 × the 412 ms median
    }

    [Fact]
    public async Task A_lossy_path_keeps_the_weak_share_until_the_slow_calls_fall_below_half_the_threshold()
    {
        await using var client = Client();
        var hedger = client.Router.Hedger;
        foreach (var ms in Lossy)
            client.Router.CallLatency.Add(Ms(ms));
        Assert.Equal(0.4, hedger.BudgetRatio); // 4 of 20 slow

        // Hedges answer the slow calls, so fewer first copies look slow: 4 of 64 (6 %) keeps the path lossy...
        for (var i = 0; i < 44; i++)
            client.Router.CallLatency.Add(Ms(405));
        Assert.Equal(0.4, hedger.BudgetRatio);
        // ...while a path that was not lossy before is not made so by the same window.
        await using (var fresh = Client())
        {
            for (var i = 0; i < 44; i++)
                fresh.Router.CallLatency.Add(Ms(405));
            foreach (var ms in Lossy)
                fresh.Router.CallLatency.Add(Ms(ms));
            Assert.Equal(0.1, fresh.Router.Hedger.BudgetRatio);
        }

        // None slow any more (the window's oldest 16, the slow ones among them, are gone): back to the normal share.
        for (var i = 0; i < 16; i++)
            client.Router.CallLatency.Add(Ms(405));
        Assert.Equal(0.1, hedger.BudgetRatio);
    }

    [Fact]
    public async Task The_weak_share_is_an_option_capped_at_one_half()
    {
        await using var client = new MlpClient(new MlpClientOptions
        {
            Endpoint = new Uri("tcp://127.0.0.1:1"),
            DeviceId = "hedger",
            WeakNetwork = new MlpWeakNetworkOptions { WeakRetryBudgetRatio = 0.45 },
        });
        foreach (var ms in Lossy)
            client.Router.CallLatency.Add(Ms(ms));
        Assert.Equal(0.45, client.Router.Hedger.BudgetRatio);
        Assert.Throws<ArgumentException>(() => new MlpWeakNetworkOptions { WeakRetryBudgetRatio = 0.6 }.Validate());
    }

    [Fact]
    public async Task Nothing_is_hedged_before_the_first_answered_call_on_a_path_whose_handshake_was_good()
    {
        await using var client = Client();
        Assert.Null(client.Router.Hedger.ExpectedDelay());
        client.Rtt.AddSample(Ms(20)); // the HELLO/WELCOME round trip: a Good path
        Assert.Null(client.Router.Hedger.ExpectedDelay());
        Assert.False(client.Router.Hedger.MayBeLossy);
    }

    [Fact]
    public async Task Before_the_path_is_known_the_hedge_waits_one_and_a_half_of_the_smallest_round_trip_even_after_a_slow_first_call()
    {
        await using var client = Client();
        var hedger = client.Router.Hedger;
        client.Rtt.AddSample(Ms(400)); // the HELLO/WELCOME round trip: not Good
        Assert.Equal(Ms(600), hedger.ExpectedDelay());
        Assert.True(hedger.MayBeLossy);

        // The first call waited for a retransmission (a fresh connection's RTO is about three round trips) and its hedge answered at
        // 1000 ms: the first copy took at least that (a censored sample), and the next call's hedge still waits 600 ms, not 1.2 × it.
        client.Router.CallLatency.Add(Ms(1000), censored: true);
        Assert.Equal(Ms(600), hedger.ExpectedDelay());

        // A call answered at 410 ms: the window's own delay (1.2 × its median) is the shorter.
        client.Router.CallLatency.Add(Ms(410));
        client.Rtt.AddSample(Ms(410));
        Assert.Equal(Ms(492), hedger.ExpectedDelay());

        // Eight answered calls later the window knows the path: one slow call in eight is a lossy share (12.5 %).
        for (var i = 0; i < AccessLayer.Client.Internal.MlpHedger.ColdSamples - 2; i++)
            client.Router.CallLatency.Add(Ms(410));
        Assert.Equal(Ms(492), hedger.ExpectedDelay());
        Assert.Null(hedger.ColdDelay());
        Assert.True(hedger.PathIsLossy);
    }

    [Fact]
    public async Task Before_the_path_is_known_a_slow_backend_is_not_hedged_for_the_round_trip_alone()
    {
        await using var client = Client();
        client.Rtt.AddSample(Ms(200)); // not Good
        Assert.Equal(Ms(300), client.Router.Hedger.ExpectedDelay());
        client.Router.CallLatency.Add(Ms(400)); // the backend takes 200 ms more: 1.2 × that call, not 1.5 × the round trip
        Assert.Equal(Ms(480), client.Router.Hedger.ExpectedDelay());
    }

    [Fact]
    public async Task A_path_that_is_not_good_and_loses_nothing_in_its_first_calls_is_no_longer_treated_as_lossy()
    {
        await using var client = Client();
        client.Rtt.AddSample(Ms(400));
        for (var i = 0; i < AccessLayer.Client.Internal.MlpHedger.ColdSamples; i++)
            client.Router.CallLatency.Add(Ms(405 + i));
        Assert.False(client.Router.Hedger.MayBeLossy);
        Assert.Equal(0.1, client.Router.Hedger.BudgetRatio);
    }
}
