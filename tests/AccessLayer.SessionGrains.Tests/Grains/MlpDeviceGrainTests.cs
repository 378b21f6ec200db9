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

    private sealed class StorageConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder.AddMemoryGrainStorage(FleetHostingExtensions.StorageName);
    }
}
