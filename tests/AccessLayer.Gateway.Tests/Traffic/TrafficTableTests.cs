using AccessLayer.Gateway.Traffic;

namespace AccessLayer.Gateway.Tests.Traffic;

public sealed class TrafficTableTests
{
    private readonly TrafficTable _table = TrafficTableParser.Parse(TrafficTables.Example);

    [Fact]
    public void Uids_land_in_the_zone_of_their_shard()
    {
        for (var i = 0; i < 2000; i++)
        {
            var uid = "u" + i;
            var shard = UidShards.Of(uid);
            var expected = shard < 40 ? "sh-a" : shard < 70 ? "sh-b" : "bj-a";

            Assert.Equal(expected, _table.ZoneOf(uid, out var reason).Name);
            Assert.Equal(TrafficReason.Shard, reason);
        }
    }

    [Fact]
    public void Shards_spread_uids_evenly()
    {
        var counts = new int[UidShards.Count];
        for (var i = 0; i < 100_000; i++)
        {
            counts[UidShards.Of(i.ToString(System.Globalization.CultureInfo.InvariantCulture))]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 850, 1150));
    }

    [Fact]
    public void An_override_wins_over_the_shard()
    {
        Assert.Equal("bj-a", _table.ZoneOf("10086", out var reason).Name);
        Assert.Equal(TrafficReason.Override, reason);
    }

    [Fact]
    public void A_down_zones_users_move_to_its_standby_and_come_back_when_it_returns()
    {
        var down = TrafficTableParser.Parse(TrafficTables.Plus("down: [\"zone:sh-a\"]"));
        var uid = Enumerable.Range(0, 1000).Select(i => "u" + i).First(u => UidShards.Of(u) < 40);

        Assert.Equal("sh-b", down.ZoneOf(uid, out var reason).Name);
        Assert.Equal(TrafficReason.Failover, reason);
        Assert.Equal("sh-a", _table.ZoneOf(uid, out _).Name);
    }

    [Fact]
    public void Blue_takes_everyone_at_weight_0_green_everyone_at_100_and_a_user_keeps_a_colour_between()
    {
        var all = TrafficTableParser.Parse(TrafficTables.With("greenWeight: 0", "greenWeight: 100"));
        var part = TrafficTableParser.Parse(TrafficTables.With("greenWeight: 0", "greenWeight: 30"));
        var uids = Enumerable.Range(0, 4000).Select(i => "u" + i).Where(u => UidShards.Of(u) < 40).ToList();

        Assert.All(uids, u => Assert.Equal("blue", _table.Resolve(new TrafficQuery("orders", u), null).Group));
        Assert.All(uids, u => Assert.Equal("green", all.Resolve(new TrafficQuery("orders", u), null).Group));
        var green = uids.Count(u => part.Resolve(new TrafficQuery("orders", u), null).Group == "green");
        Assert.InRange(green * 100.0 / uids.Count, 25, 35);
        Assert.All(uids, u => Assert.Equal(part.Resolve(new TrafficQuery("orders", u), null).Group, part.Resolve(new TrafficQuery("orders", u), null).Group));
    }

    [Fact]
    public void A_matching_gray_rule_sends_the_request_to_its_group_and_says_which_rule()
    {
        var uid = Enumerable.Range(0, 1000).Select(i => "u" + i).First(u => UidShards.Of(u) < 40);

        var beta = _table.Resolve(new TrafficQuery("orders", uid, Platform: "iOS", AppVersion: "5.3.1"), null);
        var oldApp = _table.Resolve(new TrafficQuery("orders", uid, Platform: "ios", AppVersion: "5.1.9"), null);
        var android = _table.Resolve(new TrafficQuery("orders", uid, Platform: "android", AppVersion: "5.3.1"), null);

        Assert.Equal(("canary", "ios-beta"), (beta.Group, beta.GrayRule));
        Assert.Equal(["http://127.0.0.1:5003/"], beta.Endpoints!);
        Assert.Equal(("blue", null), (oldApp.Group, oldApp.GrayRule));
        Assert.Equal("blue", android.Group);
    }

    [Fact]
    public void A_gray_rule_is_skipped_in_a_zone_without_its_group()
    {
        var uid = Enumerable.Range(0, 1000).Select(i => "u" + i).First(u => UidShards.Of(u) is >= 40 and < 70);

        var decision = _table.Resolve(new TrafficQuery("orders", uid, Platform: "ios", AppVersion: "5.3.1"), null);

        Assert.Equal(("sh-b", "blue", null), (decision.Zone!.Name, decision.Group, decision.GrayRule));
    }

    [Fact]
    public void Marked_load_test_traffic_goes_to_the_shadow_group()
    {
        var uid = Enumerable.Range(0, 1000).Select(i => "u" + i).First(u => UidShards.Of(u) < 40);

        var decision = _table.Resolve(new TrafficQuery("orders", uid, LoadTest: true), null);

        Assert.Equal(("shadow", TrafficReason.LoadTest), (decision.Group, decision.Reason));
    }

    [Fact]
    public void Traffic_of_no_user_goes_to_an_up_zone_of_the_nodes_site()
    {
        var down = TrafficTableParser.Parse(TrafficTables.Plus("down: [\"zone:sh-a\"]"));

        var zones = Enumerable.Range(0, 200).Select(_ => _table.Resolve(new TrafficQuery("orders", null), _table.Sites["sh"]).Zone!.Name).ToHashSet();
        var whileDown = Enumerable.Range(0, 50).Select(_ => down.Resolve(new TrafficQuery("orders", null), down.Sites["sh"]).Zone!.Name).ToHashSet();

        Assert.Equal(["sh-a", "sh-b"], zones.Order());
        Assert.Equal(["sh-b"], whileDown);
    }

    [Fact]
    public void A_service_the_zone_does_not_have_resolves_to_the_zone_without_endpoints()
    {
        var decision = _table.Resolve(new TrafficQuery("payments", "u1"), null);

        Assert.NotNull(decision.Zone);
        Assert.Null(decision.Endpoints);
    }

    [Fact]
    public void Resolving_allocates_nothing()
    {
        var query = new TrafficQuery("orders", "user-123456", Platform: "android", AppVersion: "5.3.1");
        _table.Resolve(query, null);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            _table.Resolve(query, null);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
