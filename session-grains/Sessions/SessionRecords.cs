using StackExchange.Redis;

namespace AccessLayer.SessionGrains.Sessions;

/// <summary>
/// Where the fleet keeps a session (claimed and ended by its node, read and changed further by its session grain): one Redis hash per client id (<c>al:{clusterId}:session:{clientId}</c>; fields
/// <c>e</c> epoch, <c>n</c> node, <c>o</c> owner, <c>x</c> expiry interval, <c>w</c> will, <c>s</c> subscriptions),
/// changed only by the scripts in <see cref="SessionScripts"/>. Each operation is one atomic script, so a claim is one
/// round trip instead of a read and an ETag-checked write (Orleans' grain storage), and two claims of one client id on
/// two nodes are ordered by Redis itself: the later one sees the earlier one's epoch and node. Epochs travel as decimal
/// strings (Lua numbers are doubles; clock ticks do not fit their 53 bits).
/// </summary>
internal sealed class SessionRecords(IConnectionMultiplexer redis, string keyPrefix)
{
    private readonly IDatabase _database = redis.GetDatabase();

    public async Task<SessionRecordClaim> ClaimAsync(string clientId, string node, bool cleanStart, string? owner, uint expiryInterval, byte[]? will, long nowTicks)
    {
        var result = (RedisResult[])(await _database.ScriptEvaluateAsync(SessionScripts.Claim, [Key(clientId)],
        [
            node, cleanStart ? 1 : 0, owner is null ? 0 : 1, owner ?? string.Empty, expiryInterval,
            will is null ? 0 : 1, will ?? [], nowTicks,
        ]).ConfigureAwait(false))!;
        if ((long)result[0] == 0)
        {
            return new SessionRecordClaim(0, null, OwnedByAnotherIdentity: true, null);
        }

        return new SessionRecordClaim(long.Parse((string)result[1]!, System.Globalization.CultureInfo.InvariantCulture), (string?)result[2], OwnedByAnotherIdentity: false, (byte[]?)result[3]);
    }

    public Task SaveSubscriptionsAsync(string clientId, long epoch, byte[] subscriptions) =>
        _database.ScriptEvaluateAsync(SessionScripts.SaveSubscriptions, [Key(clientId)], [Epoch(epoch), subscriptions]);

    public async Task<SessionOrphanRecord?> FindOrphanAsync(string clientId, string node)
    {
        var result = await _database.ScriptEvaluateAsync(SessionScripts.FindOrphan, [Key(clientId)], [node]).ConfigureAwait(false);
        if (result.IsNull)
        {
            return null;
        }

        var fields = (RedisResult[])result!;
        return new SessionOrphanRecord(
            long.Parse((string)fields[0]!, System.Globalization.CultureInfo.InvariantCulture),
            uint.Parse((string)fields[1]!, System.Globalization.CultureInfo.InvariantCulture),
            (byte[]?)fields[2]);
    }

    public async Task<byte[]?> TakeOrphanWillAsync(string clientId, long epoch) =>
        (byte[]?)await _database.ScriptEvaluateAsync(SessionScripts.TakeWill, [Key(clientId)], [Epoch(epoch)]).ConfigureAwait(false);

    public async Task<SessionOrphanEnd> EndOrphanAsync(string clientId, long epoch)
    {
        var result = (RedisResult[])(await _database.ScriptEvaluateAsync(SessionScripts.EndOrphan, [Key(clientId)], [Epoch(epoch)]).ConfigureAwait(false))!;
        return (long)result[0] == 0 ? new SessionOrphanEnd(false, null) : new SessionOrphanEnd(true, (byte[]?)result[1]);
    }

    public Task EndAsync(string clientId, long epoch) =>
        _database.ScriptEvaluateAsync(SessionScripts.End, [Key(clientId)], [Epoch(epoch)]);

    private RedisKey Key(string clientId) => keyPrefix + "session:" + clientId;

    private static RedisValue Epoch(long epoch) => epoch.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A session as the node that owned it left it: its epoch, expiry interval and encoded will.</summary>
internal sealed record SessionOrphanRecord(long Epoch, uint ExpiryInterval, byte[]? Will);
