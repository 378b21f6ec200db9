using AccessLayer.Protocol.Mqtt;
using AccessLayer.SessionGrains.Forwarding;
using AccessLayer.SessionGrains.Hosting;
using AccessLayer.SessionGrains.Sessions;
using AccessLayer.Sessions.Store;
using AccessLayer.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.TestingHost;
using StackExchange.Redis;

namespace AccessLayer.SessionGrains.Tests.Grains;

/// <summary>The session grain on a real (in-process) Orleans cluster, its records in a real redis-server.</summary>
public sealed class SessionGrainTests : IAsyncLifetime
{
    private const string RedisKey = "SessionGrainTests:Redis";
    private RedisServerProcess _redis = null!;
    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServerProcess.StartAsync();
        var builder = new TestClusterBuilder(1).AddSiloBuilderConfigurator<RecordsConfigurator>();
        builder.Properties[RedisKey] = _redis.Endpoint;
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task Each_claim_raises_the_epoch_and_names_the_previous_owner()
    {
        var grain = _cluster.GrainFactory.GetGrain<ISessionGrain>("c1");
        var first = await grain.ClaimAsync("node-a", cleanStart: false, owner: "alice", expiryInterval: 0, will: null);
        var second = await grain.ClaimAsync("node-b", cleanStart: false, owner: "alice", expiryInterval: 0, will: null);

        Assert.Null(first.PreviousNode);
        Assert.Equal("node-a", second.PreviousNode);
        Assert.True(second.Epoch > first.Epoch);
    }

    [Fact]
    public async Task A_session_of_another_identity_is_refused_and_keeps_its_owner()
    {
        var grain = _cluster.GrainFactory.GetGrain<ISessionGrain>("c2");
        var alice = await grain.ClaimAsync("node-a", cleanStart: false, owner: "alice", expiryInterval: 0, will: null);
        var mallory = await grain.ClaimAsync("node-b", cleanStart: false, owner: "mallory", expiryInterval: 0, will: null);
        var aliceAgain = await grain.ClaimAsync("node-c", cleanStart: false, owner: "alice", expiryInterval: 0, will: null);

        Assert.True(mallory.OwnedByAnotherIdentity);
        Assert.Equal("node-a", aliceAgain.PreviousNode);
        Assert.True(aliceAgain.Epoch > alice.Epoch);
    }

    [Fact]
    public async Task Subscriptions_written_under_an_old_epoch_are_ignored()
    {
        var grain = _cluster.GrainFactory.GetGrain<ISessionGrain>("c3");
        var old = await grain.ClaimAsync("node-a", cleanStart: false, owner: null, expiryInterval: 0, will: null);
        await grain.SaveSubscriptionsAsync(old.Epoch, [1, 2, 3]);
        var current = await grain.ClaimAsync("node-b", cleanStart: false, owner: null, expiryInterval: 0, will: null);
        await grain.SaveSubscriptionsAsync(old.Epoch, [9, 9, 9]);

        var next = await grain.ClaimAsync("node-c", cleanStart: false, owner: null, expiryInterval: 0, will: null);

        Assert.Equal([1, 2, 3], current.Subscriptions);
        Assert.Equal([1, 2, 3], next.Subscriptions);
    }

    [Fact]
    public async Task A_clean_start_drops_the_subscriptions()
    {
        var grain = _cluster.GrainFactory.GetGrain<ISessionGrain>("c4");
        var first = await grain.ClaimAsync("node-a", cleanStart: false, owner: null, expiryInterval: 0, will: null);
        await grain.SaveSubscriptionsAsync(first.Epoch, [1]);

        var clean = await grain.ClaimAsync("node-b", cleanStart: true, owner: null, expiryInterval: 0, will: null);

        Assert.Null(clean.Subscriptions);
    }

    [Fact]
    public async Task Ending_forgets_the_session_but_not_for_a_stale_epoch()
    {
        var grain = _cluster.GrainFactory.GetGrain<ISessionGrain>("c5");
        var old = await grain.ClaimAsync("node-a", cleanStart: false, owner: "alice", expiryInterval: 0, will: null);
        var current = await grain.ClaimAsync("node-b", cleanStart: false, owner: "alice", expiryInterval: 0, will: null);

        await grain.EndAsync(old.Epoch);
        var stillThere = await grain.ClaimAsync("node-b", cleanStart: false, owner: "alice", expiryInterval: 0, will: null);
        await grain.EndAsync(stillThere.Epoch);
        var fresh = await grain.ClaimAsync("node-c", cleanStart: false, owner: "mallory", expiryInterval: 0, will: null);

        Assert.Equal("node-b", stillThere.PreviousNode);
        Assert.True(stillThere.Epoch > current.Epoch);
        Assert.Null(fresh.PreviousNode);
        Assert.False(fresh.OwnedByAnotherIdentity);
    }

    [Fact]
    public async Task A_dead_nodes_session_is_found_with_its_expiry_and_will_delay_and_only_while_that_node_owns_it()
    {
        var grain = _cluster.GrainFactory.GetGrain<ISessionGrain>("c6");
        var claim = await grain.ClaimAsync("node-a", cleanStart: false, owner: null, expiryInterval: 30, will: Will(delay: 5));

        var orphan = await grain.FindOrphanAsync("node-a");
        var notThere = await grain.FindOrphanAsync("node-b");
        await grain.ClaimAsync("node-b", cleanStart: false, owner: null, expiryInterval: 30, will: null);
        var movedOn = await grain.FindOrphanAsync("node-a");

        Assert.Equal(new SessionOrphan(claim.Epoch, 30, 5), orphan);
        Assert.Null(notThere);
        Assert.Null(movedOn);
    }

    [Fact]
    public async Task An_orphans_will_is_taken_once_and_its_end_forgets_it_unless_a_newer_claim_came()
    {
        var grain = _cluster.GrainFactory.GetGrain<ISessionGrain>("c7");
        var claim = await grain.ClaimAsync("node-a", cleanStart: false, owner: null, expiryInterval: 60, will: Will(delay: 1));

        var will = await grain.TakeOrphanWillAsync(claim.Epoch);
        var again = await grain.TakeOrphanWillAsync(claim.Epoch);
        var ended = await grain.EndOrphanAsync(claim.Epoch);
        var afterEnd = await grain.ClaimAsync("node-b", cleanStart: false, owner: null, expiryInterval: 0, will: Will(delay: 0));
        var stale = await grain.EndOrphanAsync(claim.Epoch);
        var staleWill = await grain.TakeOrphanWillAsync(claim.Epoch);

        Assert.Equal("will/c", FleetCodec.DecodeWill(will!).Message.Topic);
        Assert.Null(again);
        Assert.Equal(new SessionOrphanEnd(true, null), ended);
        Assert.Null(afterEnd.PreviousNode);
        Assert.False(stale.Ended);
        Assert.Null(staleWill);
    }

    [Fact]
    public async Task Ending_an_orphan_returns_the_will_it_still_held()
    {
        var grain = _cluster.GrainFactory.GetGrain<ISessionGrain>("c8");
        var claim = await grain.ClaimAsync("node-a", cleanStart: true, owner: null, expiryInterval: 0, will: Will(delay: 0));

        var ended = await grain.EndOrphanAsync(claim.Epoch);

        Assert.True(ended.Ended);
        Assert.Equal("will/c", FleetCodec.DecodeWill(ended.Will!).Message.Topic);
    }

    private static byte[] Will(uint delay) =>
        FleetCodec.EncodeWill(new WillMessage(new MqttApplicationMessage { Topic = "will/c", Payload = "gone"u8.ToArray() }, delay));

    private sealed class RecordsConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            var endpoint = siloBuilder.Configuration[RedisKey]!;
            siloBuilder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(endpoint));
            siloBuilder.Services.AddSingleton(sp => new SessionRecords(sp.GetRequiredService<IConnectionMultiplexer>(), "al:test:"));
        }
    }
}
