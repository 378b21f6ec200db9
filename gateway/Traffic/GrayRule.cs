using System.Collections.Frozen;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// A gray (canary) rule: every condition it has must hold (uid list, uid percentage, app version range, platform,
/// device id list, one header's value); the first rule that matches, in table order, sends the request to its group.
/// </summary>
internal sealed class GrayRule
{
    public required string Name { get; init; }

    public required string Group { get; init; }

    public FrozenSet<string>? Uids { get; init; }

    /// <summary>0–100: users whose gray bucket (independent of zone and colour) is below it.</summary>
    public int? UidPercent { get; init; }

    public AppVersionRange? AppVersion { get; init; }

    public string? Platform { get; init; }

    public FrozenSet<string>? DeviceIds { get; init; }

    public (string Name, string Value)? Header { get; init; }

    public bool Matches(in TrafficQuery query)
    {
        if (Uids is not null && (query.Uid is null || !Uids.Contains(query.Uid)))
        {
            return false;
        }

        if (UidPercent is { } percent && (query.Uid is null || UidShards.Of(query.Uid, seed: 2) >= percent))
        {
            return false;
        }

        if (AppVersion is not null && (query.AppVersion is null || !AppVersion.Contains(query.AppVersion)))
        {
            return false;
        }

        if (Platform is not null && !string.Equals(Platform, query.Platform, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (DeviceIds is not null && (query.DeviceId is null || !DeviceIds.Contains(query.DeviceId)))
        {
            return false;
        }

        if (Header is { } header && (query.Headers is null || !query.Headers.TryGet(header.Name, out var value) || !string.Equals(value, header.Value, StringComparison.Ordinal)))
        {
            return false;
        }

        return true;
    }
}
