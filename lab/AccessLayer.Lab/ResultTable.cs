using System.Globalization;
using System.Text;
using System.Text.Json;

namespace AccessLayer.Lab;

/// <summary>The lab's table: one row per scenario and client; a broken run gets its reason instead of figures.</summary>
internal static class ResultTable
{
    public static JsonSerializerOptions Json { get; } = new() { WriteIndented = false };

    public static string Render(IEnumerable<ScenarioResult> results, bool quick, TimeSpan elapsed)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"weak-network lab ({(quick ? "quick" : "full")}), {elapsed.TotalMinutes:0.0} min; times in ms; ok% = answered within the client's deadline (sdk 10 s, naive 30 s)");
        text.AppendLine("| scenario | client | calls | ok % | p50 | p99 | max | dup side effects | pushes acc/lost | KB sent | heartbeats | connects | via HTTP | detect | outage answered | late | recover | hb s |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var result in results)
        {
            if (result.Broken is not null)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"| {result.Scenario} | BROKEN: {result.Broken} | | | | | | | | | | | | | | | | |");
                continue;
            }

            foreach (var c in result.Clients)
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {result.Scenario} | {c.Client} | {c.Calls} | {c.SuccessRate * 100:0.#} | {Ms(c.P50Ms)} | {Ms(c.P99Ms)} | {Ms(c.MaxMs)} | {c.DuplicateSideEffects} | {c.PushesAccepted}/{c.PushesLost} | {c.BytesSent / 1024.0:0.#} | {c.Heartbeats} | {c.Connects} | {c.FallbackCalls} | {Ms(c.DetectMs)} | {(c.OutageCalls == 0 ? "-" : $"{c.OutageAnswered}/{c.OutageCalls}")} | {Ms(c.LateMs)} | {Ms(c.RecoverMs)} | {c.HeartbeatIntervalS:0.##} |");
            }
        }

        text.AppendLine("detect: blackout/crash start → link dropped; outage answered: calls issued during a blackout or crash that got an answer; late: path back → last call issued during the outage ended (answered or failed; 0: all had ended); recover: path back (or handover) → first answer to a call issued after it; pushes lost: accepted by the push API, not delivered to the app by the end (30 s after the last call); hb: heartbeat interval at the end.");
        foreach (var result in results.Where(r => r.Broken is null))
        {
            foreach (var c in result.Clients.Where(c => c.HeartbeatSteps.Contains(' ', StringComparison.Ordinal)))
                text.AppendLine(CultureInfo.InvariantCulture, $"  {result.Scenario} {c.Client} heartbeat interval (s into the run:interval s): {c.HeartbeatSteps}");
        }

        foreach (var result in results.Where(r => r.Broken is null))
        {
            foreach (var c in result.Clients.Where(c => c.OutageCalls > 0))
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"  {result.Scenario} {c.Client} outage calls: deadline outlives the outage {c.OutageAliveCalls}, answered within 5 s of the return {c.OutageAliveAnsweredIn5s}; deadline ended during it {c.OutageExpiredCalls}, ended by their deadline {c.OutageExpiredOnTime}; detect after the first call into it {Ms(c.DetectAfterSendMs)} ms");
            }
        }

        foreach (var result in results.Where(r => r.Broken is null))
            text.AppendLine(CultureInfo.InvariantCulture, $"  {result.Scenario}: {result.Description}");
        return text.ToString();
    }

    private static string Ms(double? value) => value is { } v ? v.ToString("0", CultureInfo.InvariantCulture) : "-";
}
