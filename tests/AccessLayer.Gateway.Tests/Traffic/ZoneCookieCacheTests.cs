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

    [Fact]
    public void A_site_links_cache_verifies_each_users_cookie_once_though_their_calls_interleave()
    {
        // A site link carries the calls of many users in turn: a cache of one cookie would verify every one of them.
        var cache = new ZoneCookieCache(ZoneCookieCache.SiteLinkUsers);
        var users = Enumerable.Range(0, 50).Select(i => "user-" + i).ToArray();
        var cookies = users.Select(u => _cookies.Issue(_table.Version, _table.ZoneOf(u, out _), u)).ToArray();
        var before = ZoneCookie.MacsOnThisThread;

        for (var round = 0; round < 10; round++)
        {
            for (var i = 0; i < users.Length; i++)
            {
                Assert.True(_cookies.TryRead(new string(cookies[i].AsSpan()), users[i], _table, cache, out var zone));
                Assert.Same(_table.ZoneOf(users[i], out _), zone);
            }
        }

        Assert.Equal(users.Length, ZoneCookie.MacsOnThisThread - before);
        // One user's cookie is still worth nothing to another.
        Assert.False(_cookies.TryRead(cookies[0], users[1], _table, cache, out _));
    }

    [Fact]
    public void A_full_site_link_cache_starts_over_and_stays_within_its_bound()
    {
        var cache = new ZoneCookieCache(users: 8);
        for (var i = 0; i < 30; i++)
        {
            var uid = "user-" + i;
            Assert.True(_cookies.TryRead(_cookies.Issue(_table.Version, _table.ZoneOf(uid, out _), uid), uid, _table, cache, out _));
            Assert.InRange(cache.Count, 1, 8);
        }
    }
}
