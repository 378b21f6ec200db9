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
    private static readonly double[] Lossy = [410, 405, 1020, 415, 400, 420, 1610, 405, 410, 1000, 412, 408, 1240, 401, 409, 411, 403, 417, 406, 404];

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
        // The 90th percentile (nearest rank 18 of 20) is above 1.2 × the 190 ms median.
        Assert.Equal(Ms(270), hedger.ExpectedDelay());

        foreach (var ms in Lossy)
            client.Router.CallLatency.Add(Ms(ms));
        Assert.Equal(0.3, hedger.BudgetRatio);
    }

    [Fact]
    public async Task On_a_lossy_path_the_hedge_waits_for_the_calls_that_lost_nothing_and_no_longer()
    {
        await using var client = Client();
        foreach (var ms in Lossy)
            client.Router.CallLatency.Add(Ms(ms));

        // The 70th percentile the 30 % share affords is a clean call (415 ms), under the floor of 1.2 × the 410 ms median: 492 ms, well
        // before the retransmitted calls' second or more, so a copy on another TCP stream can still beat them.
        Assert.Equal(Ms(492), client.Router.Hedger.ExpectedDelay());
    }

    [Fact]
    public async Task A_lossy_path_keeps_the_weak_share_until_the_slow_calls_fall_below_half_the_threshold()
    {
        await using var client = Client();
        var hedger = client.Router.Hedger;
        foreach (var ms in Lossy)
            client.Router.CallLatency.Add(Ms(ms));
        Assert.Equal(0.3, hedger.BudgetRatio); // 4 of 20 slow

        // Hedges answer the slow calls, so fewer first copies look slow: 4 of 64 (6 %) keeps the path lossy...
        for (var i = 0; i < 44; i++)
            client.Router.CallLatency.Add(Ms(405));
        Assert.Equal(0.3, hedger.BudgetRatio);
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
            WeakNetwork = new MlpWeakNetworkOptions { WeakRetryBudgetRatio = 0.4 },
        });
        foreach (var ms in Lossy)
            client.Router.CallLatency.Add(Ms(ms));
        Assert.Equal(0.4, client.Router.Hedger.BudgetRatio);
        Assert.Throws<ArgumentException>(() => new MlpWeakNetworkOptions { WeakRetryBudgetRatio = 0.6 }.Validate());
    }

    [Fact]
    public async Task Nothing_is_hedged_before_the_first_answered_call()
    {
        await using var client = Client();
        Assert.Null(client.Router.Hedger.ExpectedDelay());
    }
}
