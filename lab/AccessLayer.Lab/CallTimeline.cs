using System.Globalization;

namespace AccessLayer.Lab;

/// <summary>
/// Why the slow calls of a lossy scenario were slow (docs/benchmarks-weak-network.md): each call's time split at the moment
/// the backend first received it (the backend runs in the lab's process, on the clients' clock), so the request leg (client →
/// gateway → backend) and the response leg (backend → gateway → client) show which direction waited for a TCP retransmission,
/// with whether a hedge went out and which copy answered.
/// </summary>
internal static class CallTimeline
{
    /// <summary>A leg this much longer than the path's one-way delay waited for something (a retransmission, a queue).</summary>
    private const double Late = 0.15;

    /// <summary>Calls slower than this are listed one by one (the lossy target is a p99 of 1.2 s).</summary>
    private const double Listed = 1.0;

    public static IEnumerable<string> Describe(LabClient client, MockBackend backend, PathProfile path)
    {
        if (path.LossPercent <= 0)
            yield break;
        var oneWay = path.DelayMs / 1000.0;
        var answered = client.Calls.Where(c => c.Ok).OrderBy(c => c.Index).ToList();
        var causes = new Dictionary<string, int>(StringComparer.Ordinal);
        var slow = new List<string>();
        foreach (var call in answered)
        {
            var arrival = backend.FirstArrival($"{client.DeviceId}/{call.Index}");
            var cause = Cause(call, arrival, oneWay);
            if (call.Latency > Listed)
            {
                causes[cause] = causes.GetValueOrDefault(cause) + 1;
                var legs = arrival is { } at ? $"request {Ms(at - call.IssuedAt)} response {Ms(call.DoneAt - at)}" : "never reached the backend";
                slow.Add($"{call.Index} {call.Operation} {Ms(call.Latency)} ms ({legs}; {(call.Hedged ? call.AnsweredByHedge ? "hedged, hedge won" : "hedged, first won" : "not hedged")}{(call.Attempts > 1 ? $", {call.Attempts} sends" : "")}; {cause})");
            }
        }

        var sorted = answered.Select(c => c.Latency).Order().ToList();
        string P(double q) => sorted.Count == 0 ? "-" : Ms(sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)]);
        yield return $"{client.DeviceId} latency: p90 {P(0.9)} p95 {P(0.95)} p99 {P(0.99)} ms; over 1.0 s {sorted.Count(l => l > 1.0)}, over 1.2 s {sorted.Count(l => l > 1.2)} of {sorted.Count}";
        if (client.Kind == ClientKind.Naive)
            yield break;
        var hedged = answered.Count(c => c.Hedged);
        var byHedge = answered.Count(c => c.AnsweredByHedge);
        yield return $"{client.DeviceId} timeline: {answered.Count} answered, {hedged} hedged ({byHedge} answered by the hedge, {hedged - byHedge} by the first copy), "
            + $"{answered.Count(c => c.Attempts > 1)} resent; {slow.Count} over {Listed:0.0} s: "
            + string.Join(", ", causes.OrderByDescending(c => c.Value).Select(c => $"{c.Key} {c.Value}"));
        foreach (var line in slow)
            yield return $"{client.DeviceId} slow call {line}";
    }

    /// <summary>Which leg waited: the request's (it reached the backend late), the response's, both, or neither (the client's own scheduling).</summary>
    private static string Cause(CallRecord call, double? arrival, double oneWay)
    {
        if (arrival is not { } at)
            return "no copy reached the backend";
        var requestLate = at - call.IssuedAt - oneWay > Late;
        var responseLate = call.DoneAt - at - oneWay > Late;
        var what = (requestLate, responseLate) switch
        {
            (true, true) => "request and response delayed",
            (true, false) => "request delayed",
            (false, true) => "response delayed",
            _ => "neither leg delayed",
        };
        return call.Hedged ? what + (call.AnsweredByHedge ? "" : ", hedge no faster") : what;
    }

    private static string Ms(double seconds) => (seconds * 1000).ToString("0", CultureInfo.InvariantCulture);
}
