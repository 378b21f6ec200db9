using AccessLayer.Gateway.Traffic;

namespace AccessLayer.Gateway.Tests.Traffic;

public sealed class TrafficTableDiffTests
{
    private readonly TrafficTable _table = TrafficTableParser.Parse(TrafficTables.Example);

    [Fact]
    public void Moving_a_shard_range_moves_that_share_of_uids()
    {
        var next = TrafficTableParser.Parse(TrafficTables.With("40-69: sh-b", "40-69: bj-a").Replace("version: 7", "version: 8", StringComparison.Ordinal));

        var diff = TrafficTableDiff.Between(_table, next);

        Assert.Equal((7L, 8L, 30, 30.0), (diff.FromVersion, diff.ToVersion, diff.ShardsMoved, diff.UidPercentMoved));
        Assert.Empty(diff.OverridesMoved);
    }

    [Fact]
    public void A_zone_going_down_moves_its_shards_and_overrides_after_failover()
    {
        var next = TrafficTableParser.Parse(TrafficTables.Plus("down: [\"site:bj\"]"));

        var diff = TrafficTableDiff.Between(_table, next);

        Assert.Equal(30, diff.ShardsMoved);
        Assert.Equal(["10086"], diff.OverridesMoved);
    }

    [Fact]
    public void The_same_table_moves_nothing()
    {
        var diff = TrafficTableDiff.Between(_table, TrafficTableParser.Parse(TrafficTables.Example));

        Assert.Equal(0, diff.ShardsMoved);
        Assert.Empty(diff.OverridesMoved);
        Assert.Empty(diff.ZonesAdded);
        Assert.Empty(diff.ZonesRemoved);
    }
}
