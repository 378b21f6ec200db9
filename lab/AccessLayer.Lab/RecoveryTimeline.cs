using System.Globalization;

namespace AccessLayer.Lab;

/// <summary>
/// Where the time between a blackout's end and the first answer goes (docs/benchmarks-weak-network.md): the client's transport connects
/// started around the return (relative to it, in ms; those that connected with their connect time), the first transport connected, the
/// link back (the reconnect's WELCOME), and the first answer to a call issued during the outage.
/// </summary>
internal static class RecoveryTimeline
{
    /// <summary>Connects started this long before the return are listed (earlier ones have given up by then).</summary>
    private const double Before = 2.5;

    public static IEnumerable<string> Describe(LabClient client, IReadOnlyList<(double Start, double End)> outages)
    {
        var attempts = client.Transports.Attempts.OrderBy(a => a.Started).ToList();
        foreach (var (start, back) in outages)
        {
            var around = attempts.Where(a => a.Started >= back - Before && a.Started <= back + 5).ToList();
            var listed = string.Join(" ", around.Select(a => double.IsNaN(a.Connected)
                ? Ms(a.Started - back)
                : $"{Ms(a.Started - back)}(connected {Ms(a.Connected - back)})"));
            var connected = attempts.Where(a => !double.IsNaN(a.Connected) && a.Connected >= back).Select(a => a.Connected).Order().FirstOrDefault(double.NaN);
            var link = client.Reconnects.Where(t => t >= back).Order().FirstOrDefault(double.NaN);
            var answered = client.Calls.Where(c => c.Ok && c.IssuedAt >= start && c.IssuedAt < back && c.DoneAt >= back).Select(c => c.DoneAt).Order().FirstOrDefault(double.NaN);
            var during = attempts.Count(a => a.Started >= start && a.Started < back);
            yield return $"{client.DeviceId} recovery from the outage {start:0.0}–{back:0.0} s (ms from the return): transport connects started {during} during the outage; " +
                $"those from {Before:0.#} s before the return: {(listed.Length == 0 ? "none" : listed)}; first transport connected {Ms(connected - back)}, link back {Ms(link - back)}, " +
                $"first outage call answered {Ms(answered - back)}; fresh attempts opened by the SDK over the run {client.Client.FreshAttemptsOpened}";
        }
    }

    private static string Ms(double seconds) => double.IsNaN(seconds) ? "-" : (seconds * 1000).ToString("+0;-0", CultureInfo.InvariantCulture);
}
