using StackExchange.Redis;

namespace AccessLayer.SessionGrains.Orphans;

/// <summary>
/// Redis bookkeeping for the sessions of nodes that die (keys under <c>al:{clusterId}:</c>): a set per node of the
/// client ids whose sessions it claimed (<c>node:{id}:sessions</c>, written without waiting: a lost write only leaves
/// a session for its client to reclaim, as before), the set of dead nodes not reaped yet (<c>dead-nodes</c>), and a
/// sorted set of what is due when (<c>orphans</c>: <c>w|epoch|clientId</c> publishes a will, <c>e|epoch|clientId</c>
/// ends a session; scored by due time, Unix milliseconds). Taking due entries removes them in one script, so each is
/// done by one node.
/// </summary>
internal sealed class OrphanLedger(IConnectionMultiplexer redis, string prefix)
{
    // ZRANGEBYSCORE and ZREM in one step: two sweeping nodes never take the same entry.
    private const string TakeDueScript = """
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
        if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
        return due
        """;

    private readonly RedisKey _deadNodes = prefix + "dead-nodes";
    private readonly RedisKey _orphans = prefix + "orphans";

    private IDatabase Db => redis.GetDatabase();

    public void Track(string node, string clientId) => Db.SetAdd(Sessions(node), clientId, CommandFlags.FireAndForget);

    public void Untrack(string node, string clientId) => Db.SetRemove(Sessions(node), clientId, CommandFlags.FireAndForget);

    public Task MarkDeadAsync(string node) => Db.SetAddAsync(_deadNodes, node);

    public async Task<IReadOnlyList<string>> DeadNodesAsync() =>
        [.. (await Db.SetMembersAsync(_deadNodes).ConfigureAwait(false)).Select(static v => (string)v!)];

    public async IAsyncEnumerable<string> SessionsOfAsync(string node)
    {
        await foreach (var value in Db.SetScanAsync(Sessions(node), pageSize: 500).ConfigureAwait(false))
        {
            yield return value!;
        }
    }

    public Task ScheduleAsync(IReadOnlyList<(string Entry, long DueUnixMs)> entries) =>
        entries.Count == 0 ? Task.CompletedTask : Db.SortedSetAddAsync(_orphans, [.. entries.Select(static e => new SortedSetEntry(e.Entry, e.DueUnixMs))]);

    /// <summary>The node's sessions are all scheduled: its set and its dead-node mark go.</summary>
    public async Task ForgetNodeAsync(string node)
    {
        await Db.KeyDeleteAsync(Sessions(node)).ConfigureAwait(false);
        await Db.SetRemoveAsync(_deadNodes, node).ConfigureAwait(false);
    }

    /// <summary>Takes (removes and returns) up to <paramref name="max"/> entries due at <paramref name="nowUnixMs"/>.</summary>
    public async Task<IReadOnlyList<string>> TakeDueAsync(long nowUnixMs, int max)
    {
        var result = await Db.ScriptEvaluateAsync(TakeDueScript, [_orphans], [nowUnixMs, max]).ConfigureAwait(false);
        return result.IsNull ? [] : [.. ((RedisResult[])result!).Select(static r => (string)r!)];
    }

    public static string WillEntry(long epoch, string clientId) => $"w|{epoch}|{clientId}";

    public static string EndEntry(long epoch, string clientId) => $"e|{epoch}|{clientId}";

    /// <summary>Parses an entry; false for one this version does not know.</summary>
    public static bool TryParse(string entry, out bool isWill, out long epoch, out string clientId)
    {
        isWill = entry.StartsWith("w|", StringComparison.Ordinal);
        clientId = string.Empty;
        epoch = 0;
        var second = entry.IndexOf('|', 2);
        if (!(isWill || entry.StartsWith("e|", StringComparison.Ordinal)) || second < 0
            || !long.TryParse(entry.AsSpan(2, second - 2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out epoch))
        {
            return false;
        }

        clientId = entry[(second + 1)..];
        return true;
    }

    private RedisKey Sessions(string node) => prefix + "node:" + node + ":sessions";
}
