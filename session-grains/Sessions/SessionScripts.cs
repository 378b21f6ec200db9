namespace AccessLayer.SessionGrains.Sessions;

/// <summary>
/// The Lua scripts behind <see cref="SessionRecords"/>, each atomic on one client's hash (KEYS[1]). Epochs are compared
/// as decimal strings (length first), never as Lua numbers, which would round clock ticks.
/// </summary>
internal static class SessionScripts
{
    /// <summary>
    /// ARGV: node, clean start (1/0), has owner (1/0), owner, expiry interval, has will (1/0), will, now (ticks).
    /// Returns {0} when the session belongs to another identity; otherwise {1, epoch, previous node or nil,
    /// subscriptions or nil}. The epoch is one more than the last, and never below the clock.
    /// </summary>
    public const string Claim = """
        local f = redis.call('HMGET', KEYS[1], 'e', 'n', 'o', 's')
        if f[1] and f[3] and ARGV[3] == '1' and f[3] ~= ARGV[4] then return {0} end
        local epoch = ARGV[8]
        if f[1] then
          redis.call('HINCRBY', KEYS[1], 'e', 1)
          local raised = redis.call('HGET', KEYS[1], 'e')
          if #raised > #epoch or (#raised == #epoch and raised > epoch) then epoch = raised end
        end
        redis.call('HSET', KEYS[1], 'e', epoch, 'n', ARGV[1], 'x', ARGV[5])
        if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'o', ARGV[4]) else redis.call('HDEL', KEYS[1], 'o') end
        if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 'w', ARGV[7]) else redis.call('HDEL', KEYS[1], 'w') end
        local subscriptions = f[4]
        if ARGV[2] == '1' then
          redis.call('HDEL', KEYS[1], 's')
          subscriptions = false
        end
        return {1, epoch, f[2], subscriptions}
        """;

    /// <summary>ARGV: epoch, subscriptions. Written only while the epoch is the session's.</summary>
    public const string SaveSubscriptions = """
        if redis.call('HGET', KEYS[1], 'e') == ARGV[1] then redis.call('HSET', KEYS[1], 's', ARGV[2]) end
        return 0
        """;

    /// <summary>ARGV: node. {epoch, expiry interval, will or nil} while that node owns the session, else nil.</summary>
    public const string FindOrphan = """
        local f = redis.call('HMGET', KEYS[1], 'e', 'n', 'x', 'w')
        if f[2] ~= ARGV[1] then return false end
        return {f[1], f[3] or '0', f[4]}
        """;

    /// <summary>ARGV: epoch. The will, removed, while the epoch is the session's; else nil.</summary>
    public const string TakeWill = """
        local f = redis.call('HMGET', KEYS[1], 'e', 'w')
        if f[1] ~= ARGV[1] or not f[2] then return false end
        redis.call('HDEL', KEYS[1], 'w')
        return f[2]
        """;

    /// <summary>ARGV: epoch. {1, will or nil} and the session gone while the epoch is the session's; else {0}.</summary>
    public const string EndOrphan = """
        local f = redis.call('HMGET', KEYS[1], 'e', 'w')
        if f[1] ~= ARGV[1] then return {0} end
        redis.call('DEL', KEYS[1])
        return {1, f[2]}
        """;

    /// <summary>ARGV: epoch. The session gone while the epoch is the session's.</summary>
    public const string End = """
        if redis.call('HGET', KEYS[1], 'e') == ARGV[1] then redis.call('DEL', KEYS[1]) end
        return 0
        """;
}
