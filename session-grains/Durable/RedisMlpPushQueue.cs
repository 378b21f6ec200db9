using StackExchange.Redis;

namespace AccessLayer.SessionGrains.Durable;

/// <summary>
/// <see cref="IMlpPushQueue"/> in Redis. Per device two keys sharing the hash tag <c>{deviceId}</c>:
/// <c>{prefix}mlp:{deviceId}:s</c>, the released session, and <c>{prefix}mlp:{deviceId}:q</c>, a list of
/// pushes. Every write renews both keys' expiry (<c>Mlp:PushExpiry</c>); an append past
/// <c>Mlp:MaxQueuedPushes</c> drops the oldest. One script per call (calls come per connection event and
/// per push API call, not per frame); each waits at most <see cref="Timeout"/>.
/// </summary>
internal sealed class RedisMlpPushQueue(IConnectionMultiplexer redis, string keyPrefix, int maxPushes, TimeSpan expiry) : IMlpPushQueue
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private const string SaveScript = """
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
        return 0
        """;

    private const string AppendScript = """
        local length = redis.call('RPUSH', KEYS[2], ARGV[1])
        local excess = length - tonumber(ARGV[2])
        if excess > 0 then redis.call('LTRIM', KEYS[2], excess, -1) else excess = 0 end
        redis.call('PEXPIRE', KEYS[2], ARGV[3])
        if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
        return excess
        """;

    private const string PrependScript = """
        for i = #ARGV, 2, -1 do redis.call('LPUSH', KEYS[2], ARGV[i]) end
        redis.call('PEXPIRE', KEYS[2], ARGV[1])
        return 0
        """;

    private const string TakeScript = """
        local session = redis.call('GET', KEYS[1])
        local pushes = redis.call('LRANGE', KEYS[2], 0, -1)
        redis.call('DEL', KEYS[1], KEYS[2])
        return { session, pushes }
        """;

    private readonly IDatabase _database = redis.GetDatabase();
    private readonly long _expiryMs = (long)expiry.TotalMilliseconds;

    public async ValueTask SaveSessionAsync(string deviceId, byte[] session, CancellationToken cancellationToken = default)
    {
        await RunAsync(SaveScript, deviceId, [session, _expiryMs], "save", cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<int> AppendAsync(string deviceId, byte[] push, CancellationToken cancellationToken = default)
    {
        var dropped = await RunAsync(AppendScript, deviceId, [push, maxPushes, _expiryMs], "append", cancellationToken).ConfigureAwait(false);
        return (int)dropped;
    }

    public async ValueTask PrependAsync(string deviceId, IReadOnlyList<byte[]> pushes, CancellationToken cancellationToken = default)
    {
        if (pushes.Count == 0)
        {
            return;
        }

        var arguments = new RedisValue[pushes.Count + 1];
        arguments[0] = _expiryMs;
        for (var i = 0; i < pushes.Count; i++)
        {
            arguments[i + 1] = pushes[i];
        }

        await RunAsync(PrependScript, deviceId, arguments, "prepend", cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<MlpQueuedSession> TakeAsync(string deviceId, CancellationToken cancellationToken = default)
    {
        var result = (RedisResult[])(await RunAsync(TakeScript, deviceId, [], "take", cancellationToken).ConfigureAwait(false))!;
        var session = result[0].IsNull ? null : (byte[]?)result[0];
        var items = (RedisResult[]?)result[1] ?? [];
        var pushes = new byte[items.Length][];
        for (var i = 0; i < items.Length; i++)
        {
            pushes[i] = (byte[])items[i]!;
        }

        return new MlpQueuedSession(session, pushes);
    }

    private async Task<RedisResult> RunAsync(string script, string deviceId, RedisValue[] arguments, string what, CancellationToken cancellationToken)
    {
        var stem = keyPrefix + "mlp:{" + deviceId + "}:";
        var task = _database.ScriptEvaluateAsync(script, [stem + "s", stem + "q"], arguments);
        try
        {
            return await task.WaitAsync(Timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is TimeoutException or RedisException)
        {
            _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw new DurableQueueUnavailableException($"Redis did not complete the MLP push queue {what} for {deviceId}: {exception.Message}", exception);
        }
    }
}
