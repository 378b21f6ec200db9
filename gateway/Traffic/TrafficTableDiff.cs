namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// The dry run of a new table against the one in force: how much of the uid space and which override uids would be
/// served by another zone (after failover on both sides), so an operator sees what an apply moves before it does.
/// </summary>
internal sealed record TrafficTableDiff(long FromVersion, long ToVersion, int ShardsMoved, IReadOnlyList<string> OverridesMoved, IReadOnlyList<string> ZonesAdded, IReadOnlyList<string> ZonesRemoved)
{
    /// <summary>Share of uids (those without an override) whose zone changes, in percent.</summary>
    public double UidPercentMoved => ShardsMoved * 100.0 / UidShards.Count;

    public static TrafficTableDiff Between(TrafficTable current, TrafficTable next)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(next);
        var shards = 0;
        for (var s = 0; s < UidShards.Count; s++)
        {
            if (current.Shards[s].Serving.Name != next.Shards[s].Serving.Name)
            {
                shards++;
            }
        }

        var overrides = current.Overrides.Keys.Union(next.Overrides.Keys, StringComparer.Ordinal)
            .Where(uid => current.ZoneOf(uid, out _).Name != next.ZoneOf(uid, out _).Name)
            .Order(StringComparer.Ordinal)
            .ToList();
        return new TrafficTableDiff(
            current.Version,
            next.Version,
            shards,
            overrides,
            [.. next.Zones.Keys.Except(current.Zones.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            [.. current.Zones.Keys.Except(next.Zones.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal)]);
    }
}
