using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// A link's verified zone cookies: a cookie's text, the uid it was verified for and the table it was verified under. A
/// call with the same cookie, the same uid and the same table in force is routed by it without computing its HMAC again
/// (a client sends the same cookie on every call); anything else misses and is verified in full
/// (<see cref="ZoneCookie.TryRead(string, string, TrafficTable, ZoneCookieCache?, out TrafficZone)"/>). The text is
/// compared in constant time unless it is the very string verified, so the cache tells a caller nothing about a cookie
/// it does not already hold. A long link (one user) keeps its last cookie, one entry swapped whole; a site link, which
/// carries the calls of many users, keeps one per user up to <c>users</c>, all dropped when that many are held. Safe
/// for a link's concurrent calls.
/// </summary>
internal sealed class ZoneCookieCache
{
    /// <summary>The users a site link keeps a verified cookie for (<see cref="TrafficLinkServer"/>).</summary>
    public const int SiteLinkUsers = 4096;

    private readonly int _users;
    private readonly ConcurrentDictionary<string, Entry>? _byUser;
    private Entry? _entry;
    private int _held;

    /// <summary>One cookie (<paramref name="users"/> 1: a long link's), or the last one of each of up to <paramref name="users"/> users.</summary>
    public ZoneCookieCache(int users = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(users, 1);
        _users = users;
        _byUser = users > 1 ? new ConcurrentDictionary<string, Entry>(StringComparer.Ordinal) : null;
    }

    public bool TryGet(string cookie, string uid, TrafficTable table, out TrafficZone zone)
    {
        var entry = _byUser is null ? Volatile.Read(ref _entry) : _byUser.TryGetValue(uid, out var held) ? held : null;
        if (entry is not null && ReferenceEquals(entry.Table, table) && string.Equals(entry.Uid, uid, StringComparison.Ordinal)
            && (ReferenceEquals(entry.Cookie, cookie)
                || (entry.Cookie.Length == cookie.Length
                    && CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(entry.Cookie.AsSpan()), MemoryMarshal.AsBytes(cookie.AsSpan())))))
        {
            zone = entry.Zone;
            return true;
        }

        zone = null!;
        return false;
    }

    public void Set(string cookie, string uid, TrafficTable table, TrafficZone zone)
    {
        var entry = new Entry(cookie, uid, table, zone);
        if (_byUser is null)
        {
            Volatile.Write(ref _entry, entry);
            return;
        }

        if (Interlocked.Increment(ref _held) > _users)
        {
            // Full: start over rather than track ages (the users still calling come back at one HMAC each).
            _byUser.Clear();
            Volatile.Write(ref _held, 1);
        }

        _byUser[uid] = entry;
    }

    /// <summary>Users with a cookie held (at most the capacity).</summary>
    public int Count => _byUser?.Count ?? (_entry is null ? 0 : 1);

    private sealed record Entry(string Cookie, string Uid, TrafficTable Table, TrafficZone Zone);
}
