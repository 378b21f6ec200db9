using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AccessLayer.SessionGrains.Durable;
using AccessLayer.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace AccessLayer.SessionGrains.Tests;

/// <summary>Against a real redis-server per test (started in a temporary directory, killed after).</summary>
public sealed class RedisDurableQueueTests : IAsyncLifetime
{
    private const string Prefix = "al:test:";
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly ConcurrentDictionary<string, long> _totals = new();
    private readonly MeterListener _metrics;
    private RedisServerProcess _redis = null!;
    private ConnectionMultiplexer _connection = null!;

    public RedisDurableQueueTests() => _metrics = ListenToMetrics();

    public async Task InitializeAsync()
    {
        _redis = await RedisServerProcess.StartAsync();
        _connection = await ConnectionMultiplexer.ConnectAsync(Configuration(_redis.Endpoint));
    }

    public async Task DisposeAsync()
    {
        await _connection.DisposeAsync();
        await _redis.DisposeAsync();
        _metrics.Dispose();
        await _services.DisposeAsync();
    }

    [Fact]
    public async Task Appends_to_several_clients_load_per_client_oldest_first_with_ids_and_bytes_as_given()
    {
        await using var queue = NewQueue();
        var sent = new List<(Guid Id, byte[] Bytes, string[] Clients)>();
        for (var i = 0; i < 30; i++)
        {
            // Ids are not in time order on purpose: order must come from the append, not the id.
            var entry = (Guid.NewGuid(), Bytes(i, 1 + (i * 7 % 50)), i % 3 == 0 ? new[] { "a", "b", "c" } : i % 3 == 1 ? ["a"] : ["b", "c"]);
            sent.Add(entry);
            await queue.AppendAsync(entry.Item3, entry.Item1, entry.Item2);
        }

        foreach (var client in new[] { "a", "b", "c" })
        {
            var expected = sent.Where(e => e.Clients.Contains(client)).ToList();
            var loaded = await queue.LoadAsync(client);
            Assert.Equal(expected.Select(e => e.Id), loaded.Select(e => e.Id));
            Assert.Equal(expected.Select(e => Convert.ToHexString(e.Bytes)), loaded.Select(e => Convert.ToHexString(e.Delivery.Span)));
        }

        Assert.Empty(await queue.LoadAsync("nobody"));
    }

    [Fact]
    public async Task A_retried_append_with_the_same_id_keeps_one_entry_in_its_first_place()
    {
        await using var queue = NewQueue();
        var first = Guid.CreateVersion7();
        var second = Guid.CreateVersion7();
        await queue.AppendAsync(["a"], first, Bytes(1, 8));
        await queue.AppendAsync(["a"], second, Bytes(2, 8));
        await queue.AppendAsync(["a"], first, Bytes(3, 8));

        var loaded = await queue.LoadAsync("a");
        Assert.Equal([first, second], loaded.Select(e => e.Id));
        Assert.Equal(Bytes(1, 8), loaded[0].Delivery.ToArray());
    }

    [Fact]
    public async Task An_acknowledged_entry_is_removed_and_the_others_stay_in_order()
    {
        await using var queue = NewQueue();
        var ids = Enumerable.Range(0, 5).Select(_ => Guid.CreateVersion7()).ToArray();
        foreach (var id in ids)
        {
            await queue.AppendAsync(["a", "b"], id, Bytes(1, 16));
        }

        await queue.AcknowledgeAsync("a", ids[0]);
        await queue.AcknowledgeAsync("a", ids[3]);
        await queue.AcknowledgeAsync("a", Guid.NewGuid());

        Assert.Equal([ids[1], ids[2], ids[4]], (await queue.LoadAsync("a")).Select(e => e.Id));
        Assert.Equal(ids, (await queue.LoadAsync("b")).Select(e => e.Id));
        Assert.Equal(3, ReadCounter("fleet.durable.acknowledgements"));

        // Both keys lose the id: an id left in the order set would count against the bound.
        Assert.Equal(3, await _connection.GetDatabase().SortedSetLengthAsync(Prefix + "dq:{a}:o"));
    }

    [Fact]
    public async Task Past_the_bound_the_oldest_entries_are_dropped_and_counted()
    {
        await using var queue = NewQueue(maxEntries: 3);
        var ids = Enumerable.Range(0, 7).Select(_ => Guid.CreateVersion7()).ToArray();
        foreach (var id in ids)
        {
            await queue.AppendAsync(["a"], id, Bytes(1, 4));
        }

        await queue.AppendAsync(["b"], Guid.CreateVersion7(), Bytes(1, 4));

        Assert.Equal(ids[4..], (await queue.LoadAsync("a")).Select(e => e.Id));
        Assert.Equal(4, ReadCounter("fleet.durable.dropped"));
        Assert.Equal(8, ReadCounter("fleet.durable.appends"));

        // The hash holds no orphan: exactly the kept entries.
        Assert.Equal(3, await _connection.GetDatabase().HashLengthAsync(Prefix + "dq:{a}:e"));
    }

    [Fact]
    public async Task Delete_removes_both_keys_of_the_client_only()
    {
        await using var queue = NewQueue();
        await queue.AppendAsync(["a", "b"], Guid.CreateVersion7(), Bytes(1, 4));
        await queue.AppendAsync(["a"], Guid.CreateVersion7(), Bytes(2, 4));

        await queue.DeleteAsync("a");

        Assert.Empty(await queue.LoadAsync("a"));
        Assert.Single(await queue.LoadAsync("b"));
        var db = _connection.GetDatabase();
        Assert.False(await db.KeyExistsAsync(Prefix + "dq:{a}:e"));
        Assert.False(await db.KeyExistsAsync(Prefix + "dq:{a}:o"));
    }

    [Fact]
    public async Task Subscriptions_are_set_overwritten_forgotten_and_loaded_for_every_client()
    {
        await using var queue = NewQueue();
        // More than one HSCAN page (1000) so paging is exercised.
        for (var i = 0; i < 2500; i++)
        {
            await queue.SetSubscriptionsAsync($"c{i}", Bytes(i, 3));
        }

        await queue.SetSubscriptionsAsync("c7", Bytes(99, 5));
        await queue.SetSubscriptionsAsync("c8", null);
        await queue.SetSubscriptionsAsync("never-had-any", null);

        var loaded = await queue.LoadSubscriptionsAsync();
        Assert.Equal(2499, loaded.Count);
        Assert.Equal(Bytes(99, 5), loaded["c7"]);
        Assert.False(loaded.ContainsKey("c8"));
        Assert.Equal(Bytes(2499, 3), loaded["c2499"]);
    }

    [Fact]
    public async Task Concurrent_appends_are_group_committed_in_far_fewer_commits_than_operations()
    {
        await using var queue = NewQueue();
        var appends = Enumerable.Range(0, 2000)
            .Select(i => queue.AppendAsync([$"c{i % 100}"], Guid.CreateVersion7(), Bytes(i, 64)).AsTask())
            .ToArray();
        await Task.WhenAll(appends);

        var commits = ReadCounter("fleet.durable.commits");
        Assert.InRange(commits, 1, 100);
        Assert.Equal(2000, ReadCounter("fleet.durable.appends"));
        Assert.Equal(2000, (await Task.WhenAll(Enumerable.Range(0, 100).Select(i => queue.LoadAsync($"c{i}").AsTask()))).Sum(e => e.Count));
    }

    [Fact]
    public async Task Concurrent_appends_and_acknowledgements_leave_exactly_the_unacknowledged_entries_in_order()
    {
        // Above the 2,000 appends, so the bound drops nothing here.
        await using var queue = NewQueue(maxEntries: 5000);
        var kept = new ConcurrentDictionary<Guid, (int Writer, int Sequence)>();
        var writers = Enumerable.Range(0, 8).Select(writer => Task.Run(async () =>
        {
            var clients = new[] { $"c{writer % 4}", "all" };
            for (var i = 0; i < 250; i++)
            {
                var id = Guid.NewGuid();
                await queue.AppendAsync(clients, id, Bytes(i, 32));
                if (i % 3 == 0)
                {
                    await Task.WhenAll(queue.AcknowledgeAsync(clients[0], id).AsTask(), queue.AcknowledgeAsync("all", id).AsTask());
                }
                else
                {
                    kept[id] = (writer, i);
                }
            }
        })).ToArray();
        await Task.WhenAll(writers);

        var all = await queue.LoadAsync("all");
        Assert.Equal(kept.Keys.Order(), all.Select(e => e.Id).Order());
        // Each writer appended in sequence, so its entries load in its order.
        foreach (var group in all.Select(e => kept[e.Id]).GroupBy(k => k.Writer))
        {
            Assert.Equal(group.Select(k => k.Sequence).Order(), group.Select(k => k.Sequence));
        }

        var perClient = 0;
        for (var c = 0; c < 4; c++)
        {
            var loaded = await queue.LoadAsync($"c{c}");
            Assert.All(loaded, e => Assert.Equal(c, kept[e.Id].Writer % 4));
            perClient += loaded.Count;
        }

        Assert.Equal(kept.Count, perClient);
    }

    [Fact]
    public async Task A_killed_redis_faults_appends_within_the_timeout_instead_of_hanging()
    {
        var time = new FakeTimeProvider();
        await using var queue = NewQueue(time: time, timeout: TimeSpan.FromSeconds(2));
        await queue.AppendAsync(["a"], Guid.CreateVersion7(), Bytes(1, 4));

        _redis.Kill();
        var append = queue.AppendAsync(["a"], Guid.CreateVersion7(), Bytes(2, 4)).AsTask();
        var load = queue.LoadAsync("a").AsTask();
        time.Advance(TimeSpan.FromSeconds(2));

        // StackExchange.Redis fails them at once or holds them in its backlog for a minute (AsyncTimeout below):
        // either way the caller gets the queue's own exception within its timeout.
        var failure = await Assert.ThrowsAsync<DurableQueueUnavailableException>(() => append.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains("append", failure.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<DurableQueueUnavailableException>(() => load.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.True(ReadCounter("fleet.durable.failures") >= 2);
    }

    [Fact]
    public async Task A_stalled_redis_fails_callers_within_the_timeout_and_the_queue_works_again_once_it_answers()
    {
        var time = new FakeTimeProvider();
        await using var queue = NewQueue(time: time, timeout: TimeSpan.FromSeconds(2));
        await using var admin = await ConnectionMultiplexer.ConnectAsync(Configuration(_redis.Endpoint));
        var server = admin.GetServer(admin.GetEndPoints()[0]);

        // Redis stays connected but holds every write (scripts included): a stalled server.
        await server.ExecuteAsync("CLIENT", "PAUSE", "60000", "WRITE");
        var stalled = queue.AppendAsync(["a"], Guid.CreateVersion7(), Bytes(1, 4)).AsTask();
        time.Advance(TimeSpan.FromSeconds(2));
        var failure = await Assert.ThrowsAsync<DurableQueueUnavailableException>(() => stalled.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.True(failure.TimedOut);

        await server.ExecuteAsync("CLIENT", "UNPAUSE");
        var id = Guid.CreateVersion7();
        await queue.AppendAsync(["a"], id, Bytes(2, 4)).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        // The stalled append landed after all (Redis was slow, not wrong), before the new one.
        var loaded = await queue.LoadAsync("a");
        Assert.Equal(2, loaded.Count);
        Assert.Equal(id, loaded[^1].Id);
    }

    [Fact]
    public async Task A_redis_that_lost_its_scripts_as_a_restarted_one_has_still_takes_every_operation()
    {
        await using var queue = NewQueue();
        var first = Guid.CreateVersion7();
        await queue.AppendAsync(["a"], first, Bytes(1, 4));
        await _connection.GetServer(_connection.GetEndPoints()[0]).ScriptFlushAsync();

        // The scripts travel by SHA once loaded; after SCRIPT FLUSH (or a restart) Redis answers NOSCRIPT.
        var second = Guid.CreateVersion7();
        await queue.AppendAsync(["a"], second, Bytes(2, 4));
        await _connection.GetServer(_connection.GetEndPoints()[0]).ScriptFlushAsync();
        await queue.AcknowledgeAsync("a", first);
        await _connection.GetServer(_connection.GetEndPoints()[0]).ScriptFlushAsync();
        Assert.Equal([second], (await queue.LoadAsync("a")).Select(e => e.Id));
    }

    [Fact]
    public async Task A_full_pending_queue_holds_callers_back_and_those_that_found_no_room_in_time_are_never_written()
    {
        var time = new FakeTimeProvider();
        await using var queue = NewQueue(time: time, timeout: TimeSpan.FromSeconds(2), maxPending: 2, maxBatch: 1);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(Configuration(_redis.Endpoint));
        var server = admin.GetServer(admin.GetEndPoints()[0]);

        await server.ExecuteAsync("CLIENT", "PAUSE", "60000", "WRITE");
        var appends = Enumerable.Range(0, 10).Select(i => queue.AppendAsync(["a"], Guid.CreateVersion7(), Bytes(i, 4)).AsTask()).ToArray();
        time.Advance(TimeSpan.FromSeconds(2));
        foreach (var append in appends)
        {
            await Assert.ThrowsAsync<DurableQueueUnavailableException>(() => append.WaitAsync(TimeSpan.FromSeconds(20)));
        }

        await server.ExecuteAsync("CLIENT", "UNPAUSE");
        await queue.AppendAsync(["a"], Guid.CreateVersion7(), Bytes(99, 4)).AsTask().WaitAsync(TimeSpan.FromSeconds(20));

        // Two pending, plus one if the committer took one into the stalled commit before the clock moved, plus
        // one if that commit's own timeout let it take the next: the other callers waited for room, timed
        // out and left nothing behind (unbounded, all ten would land).
        Assert.InRange((await queue.LoadAsync("a")).Count - 1, 2, 4);
    }

    [Fact]
    public async Task Pending_bytes_are_bounded_too_callers_past_the_budget_wait_and_time_out_unwritten()
    {
        var time = new FakeTimeProvider();
        // Room for two 400-byte entries (each weighs a little more), not three.
        await using var queue = NewQueue(time: time, timeout: TimeSpan.FromSeconds(2), maxBatch: 1, maxPendingBytes: 1200);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(Configuration(_redis.Endpoint));
        var server = admin.GetServer(admin.GetEndPoints()[0]);

        await server.ExecuteAsync("CLIENT", "PAUSE", "60000", "WRITE");
        var appends = Enumerable.Range(0, 10).Select(i => queue.AppendAsync(["a"], Guid.CreateVersion7(), Bytes(i, 400)).AsTask()).ToArray();
        time.Advance(TimeSpan.FromSeconds(2));
        foreach (var append in appends)
        {
            await Assert.ThrowsAsync<DurableQueueUnavailableException>(() => append.WaitAsync(TimeSpan.FromSeconds(20)));
        }

        await server.ExecuteAsync("CLIENT", "UNPAUSE");
        await queue.AppendAsync(["a"], Guid.CreateVersion7(), Bytes(99, 4)).AsTask().WaitAsync(TimeSpan.FromSeconds(20));

        // Two within the budget, plus one if the stalled commit's own timeout released its bytes first.
        Assert.InRange((await queue.LoadAsync("a")).Count - 1, 2, 3);
    }

    private RedisDurableQueue NewQueue(int maxEntries = 1000, TimeProvider? time = null, TimeSpan? timeout = null, int maxPending = 65_536, int maxBatch = 1024, long maxPendingBytes = 64L << 20) =>
        new(_connection, new RedisDurableQueueOptions
        {
            KeyPrefix = Prefix,
            MaxEntriesPerClient = maxEntries,
            Timeout = timeout ?? TimeSpan.FromSeconds(10),
            MaxPendingOperations = maxPending,
            MaxBatchCommands = maxBatch,
            MaxPendingBytes = maxPendingBytes,
        }, _services.GetRequiredService<IMeterFactory>(), NullLogger<RedisDurableQueue>.Instance, time ?? TimeProvider.System);

    private static ConfigurationOptions Configuration(string endpoint)
    {
        var options = ConfigurationOptions.Parse(endpoint);
        options.AllowAdmin = true;
        options.AsyncTimeout = 60_000;
        options.AbortOnConnectFail = false;
        return options;
    }

    private static byte[] Bytes(int seed, int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)((seed * 31) + (i * 7));
        }

        return bytes;
    }

    private long ReadCounter(string name)
    {
        _metrics.RecordObservableInstruments();
        return _totals.GetValueOrDefault(name);
    }

    /// <summary>Totals of this test's instruments (the meter factory scopes them to this test): observable ones as last observed, the others summed since the start.</summary>
    private MeterListener ListenToMetrics()
    {
        var factory = _services.GetRequiredService<IMeterFactory>();
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            _totals.AddOrUpdate(instrument.Name, value, (_, total) => instrument.IsObservable ? value : total + value));
        listener.Start();
        return listener;
    }
}
