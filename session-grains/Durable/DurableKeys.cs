using StackExchange.Redis;

namespace AccessLayer.SessionGrains.Durable;

/// <summary>
/// Key layout. Per client two keys sharing the hash tag <c>{clientId}</c> (one cluster slot,
/// so a script may touch both): <c>{prefix}dq:{clientId}:e</c>, a hash id → encoded delivery, and
/// <c>{prefix}dq:{clientId}:o</c>, a sorted set of the same ids scored by append order. One hash
/// <c>{prefix}dsubs</c> holds every client's durable subscriptions.
/// </summary>
internal sealed class DurableKeys(string prefix)
{
    private readonly RedisKey _subscriptions = prefix + "dsubs";

    public RedisKey Subscriptions => _subscriptions;

    /// <summary>[entries hash, order set] of a client.</summary>
    public RedisKey[] Queue(string clientId)
    {
        var stem = prefix + "dq:{" + clientId + "}:";
        return [stem + "e", stem + "o"];
    }

    /// <summary>An id as a hash field: its 16 bytes in RFC 9562 (big-endian) order, so v7 ids sort by time.</summary>
    public static byte[] Field(Guid id)
    {
        var bytes = new byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        return bytes;
    }

    public static Guid Id(ReadOnlySpan<byte> field) => new(field, bigEndian: true);
}
