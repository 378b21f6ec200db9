using System.Text;
using AccessLayer.Gateway.Traffic;

namespace AccessLayer.Gateway.Tests.Traffic;

public sealed class ZoneCookieCacheTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes("a shared secret of the gateways");
    private readonly TrafficTable _table = TrafficTableParser.Parse(TrafficTables.Example);
    private readonly ZoneCookie _cookies = new(Key);

    [Fact]
    public void A_links_cookie_is_verified_once_and_then_routes_its_calls_without_an_hmac()
    {
        // A long link sends the same cookie on every call: its HMAC is what the one-site table paid per call.
        var cache = new ZoneCookieCache();
        var zone = _table.Zones["bj-a"];
        var cookie = _cookies.Issue(_table.Version, zone, "alice");
        var before = ZoneCookie.MacsOnThisThread;

        for (var call = 0; call < 100; call++)
        {
            // A copy of the text (as a header decoded per call would be): equal, not the same string.
            Assert.True(_cookies.TryRead(new string(cookie.AsSpan()), "alice", _table, cache, out var read));
            Assert.Same(zone, read);
        }

        Assert.Equal(1, ZoneCookie.MacsOnThisThread - before);
    }

    [Fact]
    public void The_cache_never_answers_for_another_cookie_another_user_or_another_table()
    {
        var cache = new ZoneCookieCache();
        var cookie = _cookies.Issue(_table.Version, _table.Zones["bj-a"], "alice");
        Assert.True(_cookies.TryRead(cookie, "alice", _table, cache, out _));

        var tampered = cookie.Replace("bj-a", "sh-a", StringComparison.Ordinal);
        var otherMac = cookie[..^1] + (cookie[^1] == 'A' ? 'B' : 'A');
        var newer = TrafficTableParser.Parse(TrafficTables.Example.Replace("version: 7", "version: 8", StringComparison.Ordinal));
        Assert.False(_cookies.TryRead(tampered, "alice", _table, cache, out _));
        Assert.False(_cookies.TryRead(otherMac, "alice", _table, cache, out _));
        Assert.False(_cookies.TryRead(cookie, "mallory", _table, cache, out _));
        Assert.False(_cookies.TryRead(cookie, "alice", newer, cache, out _));
        // The failures replaced nothing: the verified cookie still routes its own user.
        Assert.True(_cookies.TryRead(cookie, "alice", _table, cache, out var zone));
        Assert.Equal("bj-a", zone.Name);
    }
}
