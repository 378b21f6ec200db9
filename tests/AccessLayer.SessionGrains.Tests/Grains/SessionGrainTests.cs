using AccessLayer.SessionGrains.Hosting;
using AccessLayer.SessionGrains.Sessions;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace AccessLayer.SessionGrains.Tests.Grains;

/// <summary>The session grain on a real (in-process) Orleans cluster with in-memory storage.</summary>
public sealed class SessionGrainTests : IAsyncLifetime
{
    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = new TestClusterBuilder(1).AddSiloBuilderConfigurator<StorageConfigurator>().Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Each_claim_raises_the_epoch_and_names_the_previous_owner()
    {
        var grain = _cluster.GrainFactory.GetGrain<ISessionGrain>("c1");
        var first = await grain.ClaimAsync("node-a", cleanStart: false, owner: "alice");
        var second = await grain.ClaimAsync("node-b", cleanStart: false, owner: "alice");

        Assert.Null(first.PreviousNode);
        Assert.Equal("node-a", second.PreviousNode);
        Assert.True(second.Epoch > first.Epoch);
    }

    [Fact]
    public async Task A_session_of_another_identity_is_refused_and_keeps_its_owner()
    {
        var grain = _cluster.GrainFactory.GetGrain<ISessionGrain>("c2");
        var alice = await grain.ClaimAsync("node-a", cleanStart: false, owner: "alice");
        var mallory = await grain.ClaimAsync("node-b", cleanStart: false, owner: "mallory");
        var aliceAgain = await grain.ClaimAsync("node-c", cleanStart: false, owner: "alice");

        Assert.True(mallory.OwnedByAnotherIdentity);
        Assert.Equal("node-a", aliceAgain.PreviousNode);
        Assert.Equal(alice.Epoch + 1, aliceAgain.Epoch);
    }

    [Fact]
    public async Task Subscriptions_written_under_an_old_epoch_are_ignored()
    {
        var grain = _cluster.GrainFactory.GetGrain<ISessionGrain>("c3");
        var old = await grain.ClaimAsync("node-a", cleanStart: false, owner: null);
        await grain.SaveSubscriptionsAsync(old.Epoch, [1, 2, 3]);
        var current = await grain.ClaimAsync("node-b", cleanStart: false, owner: null);
        await grain.SaveSubscriptionsAsync(old.Epoch, [9, 9, 9]);

        var next = await grain.ClaimAsync("node-c", cleanStart: false, owner: null);

        Assert.Equal([1, 2, 3], current.Subscriptions);
        Assert.Equal([1, 2, 3], next.Subscriptions);
    }

    [Fact]
    public async Task A_clean_start_drops_the_subscriptions()
    {
        var grain = _cluster.GrainFactory.GetGrain<ISessionGrain>("c4");
        var first = await grain.ClaimAsync("node-a", cleanStart: false, owner: null);
        await grain.SaveSubscriptionsAsync(first.Epoch, [1]);

        var clean = await grain.ClaimAsync("node-b", cleanStart: true, owner: null);

        Assert.Null(clean.Subscriptions);
    }

    [Fact]
    public async Task Ending_forgets_the_session_but_not_for_a_stale_epoch()
    {
        var grain = _cluster.GrainFactory.GetGrain<ISessionGrain>("c5");
        var old = await grain.ClaimAsync("node-a", cleanStart: false, owner: "alice");
        var current = await grain.ClaimAsync("node-b", cleanStart: false, owner: "alice");

        await grain.EndAsync(old.Epoch);
        var stillThere = await grain.ClaimAsync("node-b", cleanStart: false, owner: "alice");
        await grain.EndAsync(stillThere.Epoch);
        var fresh = await grain.ClaimAsync("node-c", cleanStart: false, owner: "mallory");

        Assert.Equal("node-b", stillThere.PreviousNode);
        Assert.True(stillThere.Epoch > current.Epoch);
        Assert.Null(fresh.PreviousNode);
        Assert.False(fresh.OwnedByAnotherIdentity);
    }

    private sealed class StorageConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder.AddMemoryGrainStorage(FleetHostingExtensions.StorageName);
    }
}
