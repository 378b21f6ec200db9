using AccessLayer.Gateway.Mlp.Connections;

namespace AccessLayer.Gateway.Dashboard;

/// <summary>
/// <c>GET /api/v1/devices?search=&amp;limit=</c>: the MLP devices connected to this node (past HELLO), by device id,
/// those whose device id or user id contains <c>search</c> (case-insensitive); at most <c>limit</c> (1–1000, default 200).
/// </summary>
internal static class MlpDeviceListing
{
    public const int MaxLimit = 1000;

    public static IResult List(MlpConnectionRegistry connections, TimeProvider time, string? search, int? limit)
    {
        var size = Math.Clamp(limit ?? 200, 1, MaxLimit);
        var matching = new List<MlpConnection>();
        // By device, not by connection: a device's secondary link (its SDK's way for hedges) is no second device.
        foreach (var connection in connections.Devices)
        {
            if (connection.DeviceId is not { } deviceId || !connection.IsWelcomed)
            {
                continue;
            }

            if (string.IsNullOrEmpty(search)
                || deviceId.Contains(search, StringComparison.OrdinalIgnoreCase)
                || connection.UserId.Contains(search, StringComparison.OrdinalIgnoreCase))
            {
                matching.Add(connection);
            }
        }

        matching.Sort(static (a, b) => string.CompareOrdinal(a.DeviceId, b.DeviceId));
        var items = matching.Take(size).Select(c => new DeviceSummary(
            c.DeviceId!,
            c.UserId,
            Math.Round(time.GetElapsedTime(c.AcceptedTimestamp).TotalSeconds, 1),
            Math.Round(time.GetElapsedTime(c.LastReceivedTimestamp).TotalSeconds, 1))).ToList();
        return Results.Json(new DevicePage(matching.Count, items), DashboardJsonContext.Default.DevicePage);
    }
}
