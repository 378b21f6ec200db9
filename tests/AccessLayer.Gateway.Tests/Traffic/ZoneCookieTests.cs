using System.Text;
using AccessLayer.Gateway.Traffic;

namespace AccessLayer.Gateway.Tests.Traffic;

public sealed class ZoneCookieTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes("a shared secret of the gateways");
    private readonly TrafficTable _table = TrafficTableParser.Parse(TrafficTables.Example);
    private readonly ZoneCookie _cookies = new(Key);

    [Fact]
    public void A_cookie_issued_for_a_user_routes_that_user_without_the_lookup()
    {
        var zone = _table.ZoneOf("alice", out _);
        var cookie = _cookies.Issue(_table.Version, zone, "alice");

        Assert.True(_cookies.TryRead(cookie, "alice", _table, out var read));
        Assert.Same(zone, read);
        var decision = _table.Resolve(new TrafficQuery("orders", "alice"), null, read);
        Assert.Equal((zone, TrafficReason.Cookie), (decision.Zone, decision.Reason));
    }

    [Fact]
    public void Another_users_cookie_a_tampered_one_or_one_under_another_key_is_not_trusted()
    {
        var cookie = _cookies.Issue(_table.Version, _table.Zones["bj-a"], "alice");
        var tampered = cookie.Replace("bj-a", "sh-a", StringComparison.Ordinal);
        var otherKey = new ZoneCookie(Encoding.UTF8.GetBytes("another secret of other gateways")).Issue(_table.Version, _table.Zones["bj-a"], "alice");

        Assert.False(_cookies.TryRead(cookie, "mallory", _table, out _));
        Assert.False(_cookies.TryRead(tampered, "alice", _table, out _));
        Assert.False(_cookies.TryRead(otherKey, "alice", _table, out _));
    }

    [Fact]
    public void A_cookie_from_an_older_table_is_not_trusted()
    {
        var cookie = _cookies.Issue(_table.Version - 1, _table.Zones["bj-a"], "alice");

        Assert.False(_cookies.TryRead(cookie, "alice", _table, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("7")]
    [InlineData("7.sh-a")]
    [InlineData("7..abc")]
    [InlineData("x.sh-a.AAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("7.nowhere.AAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("7.sh-a.!!!!")]
    [InlineData("7.sh-a.AAAA")]
    public void Garbage_is_not_a_cookie(string cookie)
    {
        Assert.False(_cookies.TryRead(cookie, "alice", _table, out _));
    }

    [Fact]
    public void A_cookie_naming_a_zone_that_went_down_is_resolved_by_the_lookup()
    {
        var down = TrafficTableParser.Parse(TrafficTables.Plus("down: [\"zone:bj-a\"]"));
        var cookie = _cookies.Issue(down.Version, down.Zones["bj-a"], "10086");

        Assert.True(_cookies.TryRead(cookie, "10086", down, out var read));
        var decision = down.Resolve(new TrafficQuery("orders", "10086"), null, read);
        Assert.Equal(("sh-a", TrafficReason.Failover), (decision.Zone!.Name, decision.Reason));
    }

    [Fact]
    public void Reading_a_cookie_allocates_nothing()
    {
        var cookie = _cookies.Issue(_table.Version, _table.Zones["sh-b"], "alice");
        _cookies.TryRead(cookie, "alice", _table, out _);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            _cookies.TryRead(cookie, "alice", _table, out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
