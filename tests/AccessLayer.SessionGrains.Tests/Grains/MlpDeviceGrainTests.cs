using AccessLayer.SessionGrains.Hosting;
using AccessLayer.SessionGrains.Mlp;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace AccessLayer.SessionGrains.Tests.Grains;

/// <summary>The MLP device grain on a real (in-process) Orleans cluster with in-memory storage.</summary>
public sealed class MlpDeviceGrainTests : IAsyncLifetime
{
    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = new TestClusterBuilder(1).AddSiloBuilderConfigurator<StorageConfigurator>().Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Each_claim_raises_the_epoch_and_names_the_previous_node_and_user()
    {
        var grain = _cluster.GrainFactory.GetGrain<IMlpDeviceGrain>("d1");
        var first = await grain.ClaimAsync("node-a", "alice");
        var second = await grain.ClaimAsync("node-b", "bob");

        Assert.Equal((null, null), (first.PreviousNode, first.PreviousUserId));
        Assert.Equal(("node-a", "alice"), (second.PreviousNode, second.PreviousUserId));
        Assert.True(second.Epoch > first.Epoch);
        Assert.Equal(new MlpDeviceOwner("node-b", second.Epoch), await grain.GetOwnerAsync());
    }

    [Fact]
    public async Task A_release_under_a_stale_epoch_changes_nothing_and_a_current_one_leaves_the_device_offline()
    {
        var grain = _cluster.GrainFactory.GetGrain<IMlpDeviceGrain>("d2");
        var old = await grain.ClaimAsync("node-a", "alice");
        var current = await grain.ClaimAsync("node-b", "alice");

        Assert.False(await grain.ReleaseAsync(old.Epoch));
        Assert.Equal("node-b", (await grain.GetOwnerAsync()).Node);
        Assert.True(await grain.ReleaseAsync(current.Epoch));

        // Offline keeps the epoch, so a node that handed the device over never sees an older one again.
        Assert.Equal(new MlpDeviceOwner(null, current.Epoch), await grain.GetOwnerAsync());
        var next = await grain.ClaimAsync("node-c", "alice");
        Assert.Null(next.PreviousNode);
        Assert.Equal(current.Epoch + 1, next.Epoch);
    }

    [Fact]
    public async Task Concurrent_calls_to_one_device_are_all_answered()
    {
        // Deactivating after every call rejected about three in four of these (queued behind a deactivation).
        var grain = _cluster.GrainFactory.GetGrain<IMlpDeviceGrain>("busy");
        var claim = await grain.ClaimAsync("node-a", "alice");

        for (var round = 0; round < 10; round++)
        {
            var owners = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => grain.GetOwnerAsync()));
            Assert.All(owners, owner => Assert.Equal(new MlpDeviceOwner("node-a", claim.Epoch), owner));
        }
    }

    [Fact]
    public async Task A_device_no_longer_called_leaves_no_activation_behind()
    {
        var grain = _cluster.GrainFactory.GetGrain<IMlpDeviceGrain>("quiet");
        await grain.ClaimAsync("node-a", "alice");
        Assert.Equal(1, await ActivationsAsync());

        // Orleans' own idle collection would take a minute at the least; the grain ends itself one to two ticks after its last call.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (await ActivationsAsync() > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal(0, await ActivationsAsync());
        Assert.Equal("node-a", (await grain.GetOwnerAsync()).Node);
    }

    private async Task<int> ActivationsAsync()
    {
        var management = _cluster.GrainFactory.GetGrain<IManagementGrain>(0);
        var statistics = await management.GetSimpleGrainStatistics();
        return statistics.Where(s => s.GrainType.Contains(nameof(MlpDeviceGrain), StringComparison.Ordinal)).Sum(s => s.ActivationCount);
    }

    private sealed class StorageConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder.AddMemoryGrainStorage(FleetHostingExtensions.StorageName);
    }
}
