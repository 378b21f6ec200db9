using AccessLayer.Gateway.Mqtt;

namespace AccessLayer.Gateway.Tests.Broker;

/// <summary>The epoch each fleet session was claimed at: set, read, and removed only by the claim that holds it.</summary>
public sealed class FleetEpochsTests
{
    [Fact]
    public void A_removal_for_an_older_claim_leaves_the_newer_one()
    {
        var epochs = new FleetEpochs();
        epochs.Set("c", 1);
        epochs.Set("c", 2);

        Assert.False(epochs.TryRemove("c", 1));
        Assert.True(epochs.TryGet("c", out var epoch));
        Assert.Equal(2, epoch);
        Assert.True(epochs.TryRemove("c", 2));
        Assert.False(epochs.TryGet("c", out _));
    }

    [Fact]
    public void Removing_by_client_id_returns_the_epoch_it_held()
    {
        var epochs = new FleetEpochs();
        epochs.Set("a", 7);

        Assert.True(epochs.TryRemove("a", out long epoch));
        Assert.Equal(7, epoch);
        Assert.False(epochs.TryRemove("a", out long _));
    }

    [Fact]
    public async Task Concurrent_claims_of_distinct_clients_all_stay()
    {
        var epochs = new FleetEpochs();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                epochs.Set($"{t}-{i}", i);
            }
        })));

        for (var t = 0; t < 4; t++)
        {
            for (var i = 0; i < 10_000; i += 997)
            {
                Assert.True(epochs.TryGet($"{t}-{i}", out var epoch));
                Assert.Equal(i, epoch);
            }
        }
    }
}
