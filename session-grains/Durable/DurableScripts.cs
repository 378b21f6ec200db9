namespace AccessLayer.SessionGrains.Durable;

/// <summary>
/// The Lua scripts behind <see cref="RedisDurableQueue"/>; each runs atomically on the client's
/// two keys (KEYS[1] the entries hash, KEYS[2] the order set). StackExchange.Redis sends them by
/// SHA once loaded.
/// </summary>
internal static class DurableScripts
{
    /// <summary>
    /// ARGV: id, delivery, bound. Appends after the newest entry (score = newest + 1: Redis's arrival
    /// order, the same for every node), then drops the oldest past the bound. Returns how many were
    /// dropped. An id already queued keeps its place and bytes (a retried append is a no-op).
    /// </summary>
    public const string Append = """
        if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
        local newest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
        local score = 1
        if newest[2] then score = tonumber(newest[2]) + 1 end
        redis.call('ZADD', KEYS[2], score, ARGV[1])
        local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[3])
        if excess <= 0 then return 0 end
        local oldest = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
        for i = 1, #oldest do redis.call('HDEL', KEYS[1], oldest[i]) end
        redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
        return excess
        """;

    /// <summary>ARGV: id. Removes it from both keys; returns 1 if it was queued.</summary>
    public const string Acknowledge = """
        redis.call('ZREM', KEYS[2], ARGV[1])
        return redis.call('HDEL', KEYS[1], ARGV[1])
        """;

    /// <summary>
    /// Every entry oldest first as a flat array id, delivery, id, delivery… in one atomic read
    /// (HMGET in chunks: Lua's unpack is bounded).
    /// </summary>
    public const string Load = """
        local ids = redis.call('ZRANGE', KEYS[2], 0, -1)
        local out = {}
        for i = 1, #ids, 512 do
          local chunk = {}
          for j = i, math.min(i + 511, #ids) do chunk[#chunk + 1] = ids[j] end
          local values = redis.call('HMGET', KEYS[1], unpack(chunk))
          for j = 1, #chunk do
            if values[j] then
              out[#out + 1] = chunk[j]
              out[#out + 1] = values[j]
            end
          end
        end
        return out
        """;
}
