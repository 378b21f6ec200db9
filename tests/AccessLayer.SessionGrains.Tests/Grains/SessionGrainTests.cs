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
    private const long Now = 639_000_000_000_000_001;
    private RedisServerProcess _redis = null!;
    private ConnectionMultiplexer _connection = null!;
    private SessionRecords _records = null!;
    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServerProcess.StartAsync();
        var builder = new TestClusterBuilder(1).AddSiloBuilderConfigurator<RecordsConfigurator>();
        builder.Properties[RedisKey] = _redis.Endpoint;
        _cluster = builder.Build();
        await _cluster.DeployAsync();

        // The node claims (FleetNode): the grain's calls come after a claim.
        _connection = await ConnectionMultiplexer.ConnectAsync(_redis.Endpoint);
        _records = new SessionRecords(_connection, "al:test:");
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _connection.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task Subscriptions_written_under_an_old_epoch_are_ignored()
    {
        var grain = _cluster.GrainFactory.GetGrain<ISessionGrain>("c3");
        var old = await _records.ClaimAsync("c3", "node-a", cleanStart: false, owner: null, 0, null, Now);
        await grain.SaveSubscriptionsAsync(old.Epoch, [1, 2, 3]);
        var current = await _records.ClaimAsync("c3", "node-b", cleanStart: false, owner: null, 0, null, Now);
        await grain.SaveSubscriptionsAsync(old.Epoch, [9, 9, 9]);

        var next = await _records.ClaimAsync("c3", "node-c", cleanStart: false, owner: null, 0, null, Now);

        Assert.Equal([1, 2, 3], current.Subscriptions);
        Assert.Equal([1, 2, 3], next.Subscriptions);
    }

    [Fact]
    public async Task A_dead_nodes_session_is_found_with_its_expiry_and_will_delay_and_only_while_that_node_owns_it()
    {
        var grain = _cluster.GrainFactory.GetGrain<ISessionGrain>("c6");
        var claim = await _records.ClaimAsync("c6", "node-a", cleanStart: false, owner: null, 30, Will(delay: 5), Now);

        var orphan = await grain.FindOrphanAsync("node-a");
        var notThere = await grain.FindOrphanAsync("node-b");
        await _records.ClaimAsync("c6", "node-b", cleanStart: false, owner: null, 30, null, Now);
        var movedOn = await grain.FindOrphanAsync("node-a");

        Assert.Equal(new SessionOrphan(claim.Epoch, 30, 5), orphan);
        Assert.Null(notThere);
        Assert.Null(movedOn);
    }

    [Fact]
    public async Task An_orphans_will_is_taken_once_and_its_end_forgets_it_unless_a_newer_claim_came()
    {
        var grain = _cluster.GrainFactory.GetGrain<ISessionGrain>("c7");
        var claim = await _records.ClaimAsync("c7", "node-a", cleanStart: false, owner: null, 60, Will(delay: 1), Now);

        var will = await grain.TakeOrphanWillAsync(claim.Epoch);
        var again = await grain.TakeOrphanWillAsync(claim.Epoch);
        var ended = await grain.EndOrphanAsync(claim.Epoch);
        var afterEnd = await _records.ClaimAsync("c7", "node-b", cleanStart: false, owner: null, 0, Will(delay: 0), Now + 1_000);
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
        var claim = await _records.ClaimAsync("c8", "node-a", cleanStart: true, owner: null, 0, Will(delay: 0), Now);

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
