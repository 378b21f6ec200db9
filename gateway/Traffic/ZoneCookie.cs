using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// The zone cookie: <c>{table version}.{zone}.{mac}</c>, the MAC an HMAC-SHA256 (first 16 bytes, base64url) over version,
/// zone and the uid of the authenticated session, keyed by a secret every gateway shares. A cookie routes a request
/// without the lookup only when its MAC holds for this uid and its version is the table's: one from an older table is
/// answered with a fresh one, never trusted, and one user's cookie is worth nothing to another. Reading allocates nothing.
/// </summary>
internal sealed class ZoneCookie : IDisposable
{
    private const int MacBytes = 16;
    private readonly byte[] _key;
    private readonly ThreadLocal<IncrementalHash> _hmac;

    /// <summary>MACs computed on this thread (issued or checked): what tests of the link cache count.</summary>
    [ThreadStatic]
    private static int t_macs;

    internal static int MacsOnThisThread => t_macs;

    public ZoneCookie(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < 16)
        {
            throw new ArgumentException("The zone cookie key needs at least 16 bytes.", nameof(key));
        }

        _key = key;
        _hmac = new ThreadLocal<IncrementalHash>(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key), trackAllValues: true);
    }

    public string Issue(long version, TrafficZone zone, string uid)
    {
        Span<byte> mac = stackalloc byte[MacBytes];
        Mac(version, zone.Name, uid, mac);
        return string.Create(CultureInfo.InvariantCulture, $"{version}.{zone.Name}.{Base64Url.EncodeToString(mac)}");
    }

    /// <summary>
    /// As <see cref="TryRead(ReadOnlySpan{char}, string, TrafficTable, out TrafficZone)"/>, through a link's
    /// <paramref name="cache"/>: the cookie that link last had verified, for the same uid under the same table, is not
    /// verified again; a cookie verified here becomes the cache's.
    /// </summary>
    public bool TryRead(string cookie, string uid, TrafficTable table, ZoneCookieCache? cache, out TrafficZone zone)
    {
        if (cache is not null && cache.TryGet(cookie, uid, table, out zone))
        {
            return true;
        }

        if (!TryRead(cookie.AsSpan(), uid, table, out zone))
        {
            return false;
        }

        cache?.Set(cookie, uid, table, zone);
        return true;
    }

    /// <summary>The zone the cookie names, when it was issued for <paramref name="uid"/> under <paramref name="table"/>'s version and that zone still exists.</summary>
    public bool TryRead(ReadOnlySpan<char> cookie, string uid, TrafficTable table, out TrafficZone zone)
    {
        zone = null!;
        var first = cookie.IndexOf('.');
        var last = cookie.LastIndexOf('.');
        if (first <= 0 || last <= first + 1
            || !long.TryParse(cookie[..first], NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            || version != table.Version
            || !table.Zones.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(cookie[(first + 1)..last], out var named))
        {
            return false;
        }

        Span<byte> given = stackalloc byte[MacBytes + 2];
        if (Base64Url.DecodeFromChars(cookie[(last + 1)..], given, out _, out var length) != System.Buffers.OperationStatus.Done || length != MacBytes)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[MacBytes];
        Mac(version, named.Name, uid, expected);
        if (!CryptographicOperations.FixedTimeEquals(given[..MacBytes], expected))
        {
            return false;
        }

        zone = named;
        return true;
    }

    public void Dispose()
    {
        foreach (var hmac in _hmac.Values)
        {
            hmac.Dispose();
        }

        _hmac.Dispose();
    }

    private void Mac(long version, string zone, string uid, Span<byte> destination)
    {
        // version | zone | uid, each length-prefixed so no two triples share an encoding.
        var size = 8 + 4 + Encoding.UTF8.GetByteCount(zone) + 4 + Encoding.UTF8.GetByteCount(uid);
        var buffer = size <= 512 ? stackalloc byte[512] : new byte[size];
        var data = buffer[..size];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(data, version);
        var at = 8;
        foreach (var part in (ReadOnlySpan<string>)[zone, uid])
        {
            var count = Encoding.UTF8.GetBytes(part, data[(at + 4)..]);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(data[at..], count);
            at += 4 + count;
        }

        Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
        // One keyed HMAC per thread, reset after each use: keying it anew per call (HMACSHA256.HashData) cost most of a
        // cookie check (bench/AccessLayer.Benchmarks/Traffic).
        var hmac = _hmac.Value!;
        t_macs++;
        hmac.AppendData(data);
        hmac.GetHashAndReset(hash);
        hash[..MacBytes].CopyTo(destination);
    }
}
