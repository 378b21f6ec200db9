using AccessLayer.Sessions.Store;

namespace AccessLayer.Sessions.Tests.Store;

/// <summary>The node-less table the session store and the broker's client table are built on: add, replace, conditional remove, and lookups under concurrent change.</summary>
public sealed class ChainedTableTests
{
    private sealed class Entry(string key) : IChained<Entry>
    {
        private Entry? _next;

        public string ChainKey { get; } = key;

        public ref Entry? ChainNext => ref _next;
    }

    [Fact]
    public void GetOrAdd_keeps_the_present_entry_and_Set_replaces_it()
    {
        var table = new ChainedTable<Entry>();
        var first = new Entry("a");
        var rival = new Entry("a");
        var replacement = new Entry("a");

        Assert.Same(first, table.GetOrAdd(first));
        Assert.Same(first, table.GetOrAdd(rival));
        Assert.Equal(1, table.Count);

        table.Set(replacement);
        Assert.Equal(1, table.Count);
        Assert.True(table.TryGetValue("a", out var found));
        Assert.Same(replacement, found);
        // Only the listed entry removes its key: a stale holder cannot remove its successor.
        Assert.False(table.TryRemove(first));
        Assert.True(table.TryRemove(replacement));
        Assert.False(table.TryGetValue("a", out _));
        Assert.Equal(0, table.Count);
        Assert.Empty(table.Values);
    }

    [Fact]
    public async Task Lookups_never_miss_a_present_entry_while_others_come_and_go_through_resizes()
    {
        // An entry lives in one table (its link is that table's): each round's table gets entries of its own.
        Entry[] NewStable() => Enumerable.Range(0, 256).Select(i => new Entry($"stable-{i}")).ToArray();
        var round = NewRound(NewStable());
        var misses = 0;
        var passes = 0;
        using var done = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            while (!done.IsCancellationRequested)
            {
                var current = Volatile.Read(ref round);
                foreach (var entry in current.Stable)
                {
                    if (!current.Table.TryGetValue(entry.ChainKey, out var found) || !ReferenceEquals(found, entry))
                    {
                        Interlocked.Increment(ref misses);
                    }
                }

                Interlocked.Increment(ref passes);
            }
        })).ToArray();

        // The readers must be running while the tables grow, or the test proves nothing.
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref passes) >= 2, TimeSpan.FromSeconds(10)));

        // Bounded: 60 fresh tables, each grown from 64 to 8,192 buckets by 4,000 entries that are then removed.
        for (var i = 0; i < 60; i++)
        {
            var current = NewRound(NewStable());
            var churn = Enumerable.Range(0, 4_000).Select(i => new Entry($"churn-{i}")).ToArray();
            Volatile.Write(ref round, current);
            foreach (var entry in churn)
            {
                Assert.Same(entry, current.Table.GetOrAdd(entry));
            }

            foreach (var entry in churn)
            {
                Assert.True(current.Table.TryRemove(entry));
            }
        }

        await done.CancelAsync();
        await Task.WhenAll(readers);
        Assert.Equal(0, misses);
        Assert.Equal(round.Stable.Length, round.Table.Count);
        Assert.Equal(round.Stable.ToHashSet(), round.Table.Values.ToHashSet());
    }

    private static Round NewRound(Entry[] stable)
    {
        var table = new ChainedTable<Entry>();
        foreach (var entry in stable)
        {
            table.Set(entry);
        }

        return new Round(table, stable);
    }

    private sealed record Round(ChainedTable<Entry> Table, Entry[] Stable);
}
