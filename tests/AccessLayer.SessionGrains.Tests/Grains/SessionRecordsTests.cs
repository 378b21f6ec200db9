using AccessLayer.SessionGrains.Sessions;
using AccessLayer.Tests.Shared;
using StackExchange.Redis;

namespace AccessLayer.SessionGrains.Tests.Grains;

/// <summary>The session records' scripts on a real redis-server: claims and ends as a node runs them, epochs exact at clock-tick scale, claims ordered by Redis.</summary>
public sealed class SessionRecordsTests : IAsyncLifetime
{
    // Ticks of 2026: past Lua's 53-bit exact integers, so any arithmetic on Lua numbers would show here.
    private const long Now = 639_000_000_000_000_001;
    private RedisServerProcess _redis = null!;
    private ConnectionMultiplexer _connection = null!;
    private SessionRecords _records = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServerProcess.StartAsync();
        _connection = await ConnectionMultiplexer.ConnectAsync(_redis.Endpoint);
        _records = new SessionRecords(_connection, "al:test:");
    }

    public async Task DisposeAsync()
    {
        await _connection.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task A_first_claim_takes_the_clock_and_a_later_one_with_an_older_clock_takes_one_more()
    {
        var first = await _records.ClaimAsync("e1", "node-a", cleanStart: false, owner: null, 0, null, Now);
        var second = await _records.ClaimAsync("e1", "node-b", cleanStart: false, owner: null, 0, null, Now - 1_000);
        var third = await _records.ClaimAsync("e1", "node-c", cleanStart: false, owner: null, 0, null, Now + 7);

        Assert.Equal(Now, first.Epoch);
        Assert.Equal(Now + 1, second.Epoch);
        Assert.Equal(Now + 7, third.Epoch);
    }

    [Fact]
    public async Task An_ended_session_is_fenced_only_by_its_exact_epoch()
    {
        var claim = await _records.ClaimAsync("e2", "node-a", cleanStart: false, owner: null, 0, null, Now);

        await _records.EndAsync("e2", claim.Epoch + 1);
        var stillThere = await _records.FindOrphanAsync("e2", "node-a");
        await _records.EndAsync("e2", claim.Epoch);
        var gone = await _records.FindOrphanAsync("e2", "node-a");

        Assert.Equal(claim.Epoch, stillThere!.Epoch);
        Assert.Null(gone);
    }

    [Fact]
    public async Task Concurrent_claims_from_several_nodes_get_distinct_epochs_and_the_highest_one_owns_the_session()
    {
        var claims = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            _records.ClaimAsync("e3", $"node-{i}", cleanStart: false, owner: "alice", 0, null, Now)));

        Assert.Equal(50, claims.Select(c => c.Epoch).Distinct().Count());
        var winner = claims.Select((c, i) => (c.Epoch, Node: $"node-{i}")).MaxBy(c => c.Epoch);
        Assert.Equal(winner.Epoch, (await _records.FindOrphanAsync("e3", winner.Node))!.Epoch);

        // Each claim names the node of the claim Redis ran before it: the claims form one chain.
        Assert.Equal(49, claims.Count(c => c.PreviousNode is not null));
    }

    [Fact]
    public async Task Each_claim_raises_the_epoch_and_names_the_previous_owner()
    {
        var first = await _records.ClaimAsync("c1", "node-a", cleanStart: false, owner: "alice", 0, null, Now);
        var second = await _records.ClaimAsync("c1", "node-b", cleanStart: false, owner: "alice", 0, null, Now);

        Assert.Null(first.PreviousNode);
        Assert.Equal("node-a", second.PreviousNode);
        Assert.True(second.Epoch > first.Epoch);
    }

    [Fact]
    public async Task A_session_of_another_identity_is_refused_and_keeps_its_owner()
    {
        var alice = await _records.ClaimAsync("c2", "node-a", cleanStart: false, owner: "alice", 0, null, Now);
        var mallory = await _records.ClaimAsync("c2", "node-b", cleanStart: false, owner: "mallory", 0, null, Now);
        var aliceAgain = await _records.ClaimAsync("c2", "node-c", cleanStart: false, owner: "alice", 0, null, Now);

        Assert.True(mallory.OwnedByAnotherIdentity);
        Assert.Equal("node-a", aliceAgain.PreviousNode);
        Assert.True(aliceAgain.Epoch > alice.Epoch);
    }

    [Fact]
    public async Task A_clean_start_drops_the_subscriptions()
    {
        var first = await _records.ClaimAsync("c4", "node-a", cleanStart: false, owner: null, 0, null, Now);
        await _records.SaveSubscriptionsAsync("c4", first.Epoch, [1]);

        var clean = await _records.ClaimAsync("c4", "node-b", cleanStart: true, owner: null, 0, null, Now);

        Assert.Null(clean.Subscriptions);
    }

    [Fact]
    public async Task Ending_forgets_the_session_but_not_for_a_stale_epoch()
    {
        var old = await _records.ClaimAsync("c5", "node-a", cleanStart: false, owner: "alice", 0, null, Now);
        var current = await _records.ClaimAsync("c5", "node-b", cleanStart: false, owner: "alice", 0, null, Now);

        await _records.EndAsync("c5", old.Epoch);
        var stillThere = await _records.ClaimAsync("c5", "node-b", cleanStart: false, owner: "alice", 0, null, Now);
        await _records.EndAsync("c5", stillThere.Epoch);
        var fresh = await _records.ClaimAsync("c5", "node-c", cleanStart: false, owner: "mallory", 0, null, Now);

        Assert.Equal("node-b", stillThere.PreviousNode);
        Assert.True(stillThere.Epoch > current.Epoch);
        Assert.Null(fresh.PreviousNode);
        Assert.False(fresh.OwnedByAnotherIdentity);
    }
}
