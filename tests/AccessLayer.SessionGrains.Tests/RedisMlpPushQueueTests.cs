using AccessLayer.SessionGrains.Durable;
using AccessLayer.Tests.Shared;
using StackExchange.Redis;

namespace AccessLayer.SessionGrains.Tests;

/// <summary>Against a real redis-server per test class instance (temporary directory, killed after).</summary>
public sealed class RedisMlpPushQueueTests : IAsyncLifetime
{
    private const string Prefix = "al:test:";
    private RedisServerProcess _redis = null!;
    private ConnectionMultiplexer _connection = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServerProcess.StartAsync();
        _connection = await ConnectionMultiplexer.ConnectAsync(_redis.Endpoint);
    }

    public async Task DisposeAsync()
    {
        await _connection.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private RedisMlpPushQueue NewQueue(int maxPushes = 100, TimeSpan? expiry = null) => new(_connection, Prefix, maxPushes, expiry ?? TimeSpan.FromHours(1));

    private static byte[] Bytes(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    private static string[] Texts(IReadOnlyList<byte[]> pushes) => [.. pushes.Select(p => System.Text.Encoding.UTF8.GetString(p))];

    [Fact]
    public async Task Take_returns_the_saved_session_and_the_pushes_in_append_order_and_leaves_nothing()
    {
        var queue = NewQueue();
        await queue.SaveSessionAsync("d1", Bytes("session"));
        foreach (var text in new[] { "p1", "p2", "p3" })
            Assert.Equal(0, await queue.AppendAsync("d1", Bytes(text)));
        await queue.AppendAsync("d2", Bytes("other device"));

        var taken = await queue.TakeAsync("d1");

        Assert.Equal("session", System.Text.Encoding.UTF8.GetString(taken.Session!));
        Assert.Equal(["p1", "p2", "p3"], Texts(taken.Pushes));
        Assert.True((await queue.TakeAsync("d1")).IsEmpty);
        Assert.Equal(["other device"], Texts((await queue.TakeAsync("d2")).Pushes));
    }

    [Fact]
    public async Task An_append_past_the_bound_drops_the_oldest_and_says_how_many()
    {
        var queue = NewQueue(maxPushes: 2);
        Assert.Equal(0, await queue.AppendAsync("d", Bytes("p1")));
        Assert.Equal(0, await queue.AppendAsync("d", Bytes("p2")));
        Assert.Equal(1, await queue.AppendAsync("d", Bytes("p3")));

        Assert.Equal(["p2", "p3"], Texts((await queue.TakeAsync("d")).Pushes));
    }

    [Fact]
    public async Task Prepended_pushes_come_before_the_queue_in_the_order_given()
    {
        var queue = NewQueue();
        await queue.AppendAsync("d", Bytes("newer"));
        await queue.PrependAsync("d", [Bytes("old1"), Bytes("old2")]);

        var taken = await queue.TakeAsync("d");

        Assert.Null(taken.Session);
        Assert.Equal(["old1", "old2", "newer"], Texts(taken.Pushes));
    }

    [Fact]
    public async Task Both_keys_of_a_device_expire_after_its_last_write()
    {
        // The offline bound of the single node (Mlp:PushExpiry) as Redis keeps it: renewed by every write.
        var queue = NewQueue(expiry: TimeSpan.FromMinutes(10));
        await queue.SaveSessionAsync("d", Bytes("session"));
        await queue.AppendAsync("d", Bytes("p"));

        var database = _connection.GetDatabase();
        foreach (var key in new[] { Prefix + "mlp:{d}:s", Prefix + "mlp:{d}:q" })
        {
            var ttl = await database.KeyTimeToLiveAsync(key);
            Assert.NotNull(ttl);
            Assert.InRange(ttl.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
        }
    }

    [Fact]
    public async Task A_dead_Redis_faults_the_call_with_DurableQueueUnavailable()
    {
        var queue = NewQueue();
        _redis.Kill();

        await Assert.ThrowsAsync<DurableQueueUnavailableException>(async () => await queue.AppendAsync("d", Bytes("p")));
    }
}
