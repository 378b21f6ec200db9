using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// One long link's last verified zone cookie: the cookie's text, the uid it was verified for and the table it was
/// verified under. A call of that link with the same cookie, the same uid and the same table in force is routed by
/// it without computing its HMAC again (a link sends the same cookie on every call); anything else misses and is
/// verified in full (<see cref="ZoneCookie.TryRead(string, string, TrafficTable, ZoneCookieCache?, out TrafficZone)"/>).
/// The text is compared in constant time unless it is the very string verified, so the cache tells a caller nothing
/// about a cookie it does not already hold. One entry, swapped whole: safe for the link's concurrent calls.
/// </summary>
internal sealed class ZoneCookieCache
{
    private Entry? _entry;

    public bool TryGet(string cookie, string uid, TrafficTable table, out TrafficZone zone)
    {
        if (Volatile.Read(ref _entry) is { } entry && ReferenceEquals(entry.Table, table) && string.Equals(entry.Uid, uid, StringComparison.Ordinal)
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

    public void Set(string cookie, string uid, TrafficTable table, TrafficZone zone) =>
        Volatile.Write(ref _entry, new Entry(cookie, uid, table, zone));

    private sealed record Entry(string Cookie, string Uid, TrafficTable Table, TrafficZone Zone);
}
