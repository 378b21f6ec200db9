using System.Text.Json.Nodes;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Bots.Tests.Bench;

/// <summary>
/// bench/capacity/capacity.py run by python3 on stepped bot reports written the way bench/capacity/run.sh writes them:
/// a step holds only with under 0.1% lost, p99 under the bound and the rate asked actually published (a broker pushes
/// publishers back), and a broken lowest step is refused.
/// </summary>
public sealed class CapacityTableTests : IDisposable
{
    private readonly string _out = Directory.CreateTempSubdirectory("capacity-table-").FullName;

    public void Dispose() => Directory.Delete(_out, recursive: true);

    [Fact]
    public async Task The_highest_rate_held_is_the_figure_with_the_step_that_failed_beside_it()
    {
        Step("gateway", "p2p-q0", 10_000, Report(10_000, lost: 0, p99Us: 2_000));
        Step("gateway", "p2p-q0", 20_000, Report(20_000, lost: 0, p99Us: 4_000));
        Step("gateway", "p2p-q0", 40_000, Report(40_000, lost: 0, p99Us: 11_000));
        Step("mosquitto", "p2p-q0", 10_000, Report(10_000, lost: 0, p99Us: 3_000));
        Step("mosquitto", "p2p-q0", 20_000, Report(20_000, lost: 101, p99Us: 3_000));

        var (code, table) = await TableAsync("gateway", "mosquitto");

        Assert.Equal(0, code);
        Assert.Contains("| p2p QoS 0 | 20,000 (p99 4.0 ms; 40,000: 0.00% lost, p99 11.0 ms) | 10,000 (p99 3.0 ms; 20,000: 0.10% lost, p99 3.0 ms) | 2.00× |", table, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Loss_of_exactly_one_in_a_thousand_is_held_and_one_more_is_not()
    {
        Step("gateway", "fan-in-q1", 10_000, Report(10_000, lost: 50, p99Us: 1_000));
        Step("gateway", "fan-in-q1", 20_000, Report(20_000, lost: 101, p99Us: 1_000));

        var (_, table) = await TableAsync("gateway");

        Assert.Contains("| fan-in QoS 1 | 10,000 (p99 1.0 ms; 20,000: 0.10% lost, p99 1.0 ms) |", table, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_step_whose_publishers_were_held_back_below_the_rate_asked_is_not_held()
    {
        Step("gateway", "p2p-q1", 10_000, Report(10_000, lost: 0, p99Us: 1_000));
        var starved = Report(20_000, lost: 0, p99Us: 1_000);
        starved["messages"]!["publishRate"] = 15_000.0;
        Step("gateway", "p2p-q1", 20_000, starved);
        Step("mosquitto", "p2p-q1", 10_000, Report(10_000, lost: 0, p99Us: 1_000));
        Step("mosquitto", "p2p-q1", 20_000, Report(20_000, lost: 500, p99Us: 1_000));

        var (_, table) = await TableAsync("gateway", "mosquitto");

        Assert.Contains("| p2p QoS 1 | 10,000 (p99 1.0 ms; 20,000: publishers held back to 15,000/s of 20,000/s asked) | 10,000 (p99 1.0 ms; 20,000: 0.50% lost, p99 1.0 ms) | 1.00× |", table, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_fan_out_step_is_judged_on_deliveries_not_on_publishes()
    {
        // One publisher, 20 subscribers: 1,000 publishes a second are 20,000 deliveries, as offered.
        var report = Report(20_000, lost: 0, p99Us: 1_000);
        report["messages"]!["published"] = 5_000;
        report["messages"]!["publishRate"] = 1_000.0;
        Step("gateway", "fan-out-q0", 20_000, report);

        var (_, table) = await TableAsync("gateway");

        Assert.Contains("| fan-out QoS 0 | ≥ 20,000 (p99 1.0 ms; highest offered) |", table, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_broken_lowest_step_is_refused_with_its_reason_and_the_script_fails()
    {
        var nothing = Report(10_000, lost: 100_000, p99Us: 0);
        nothing["messages"]!["received"] = 0;
        Step("mosquitto", "fan-out-q1", 10_000, nothing);
        Step("gateway", "fan-out-q1", 10_000, Report(10_000, lost: 0, p99Us: 1_000));
        File.WriteAllText(Path.Combine(_out, "gateway-fan-in-q0-r10000.dead"), "during fan-in-q0 at 10000 msg/s\n");

        var (code, table) = await TableAsync("gateway", "mosquitto");

        Assert.Equal(1, code);
        Assert.Contains("| fan-out QoS 1 | ≥ 10,000 (p99 1.0 ms; highest offered) | broken: no messages received | n/a |", table, StringComparison.Ordinal);
        Assert.Contains("| fan-in QoS 0 | broken: the broker died (during fan-in-q0 at 10000 msg/s) | not run | n/a |", table, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_step_over_the_latency_bound_at_the_lowest_rate_gives_no_figure()
    {
        Step("mosquitto", "p2p-q1", 10_000, Report(10_000, lost: 0, p99Us: 12_500));

        var (code, table) = await TableAsync("mosquitto");

        Assert.Equal(0, code);
        Assert.Contains("| p2p QoS 1 | < 10,000 (0.00% lost, p99 12.5 ms at 10,000) |", table, StringComparison.Ordinal);
    }

    private async Task<(int Code, string Table)> TableAsync(params string[] brokers)
    {
        var script = Path.Combine(RepositoryRoot.Path, "bench", "capacity", "capacity.py");
        var (code, output, error) = await RepositoryProcess.RunAsync("/usr/bin/python3", [script, "table", _out, "10", .. brokers], TimeSpan.FromSeconds(30));
        Assert.True(error.Length == 0, error);
        return (code, output);
    }

    /// <summary>A sound step as the bots print it with --json: 5 s of publishing at <paramref name="rate"/> msg/s, one delivery a publish.</summary>
    private static JsonObject Report(int rate, int lost, int p99Us) => new()
    {
        ["connections"] = new JsonObject { ["target"] = 40, ["established"] = 40, ["failed"] = 0, ["lost"] = 0 },
        ["messages"] = new JsonObject
        {
            ["published"] = rate * 5, ["received"] = (rate * 5) - lost, ["expected"] = rate * 5, ["lost"] = lost,
            ["publishRate"] = (double)rate, ["receiveRate"] = (double)rate,
        },
        ["latency"] = new JsonObject { ["p50"] = 300, ["p99"] = p99Us },
        ["errors"] = new JsonObject(),
    };

    private void Step(string broker, string run, int rate, JsonObject report) =>
        File.WriteAllText(Path.Combine(_out, $"{broker}-{run}-r{rate}.json"), "progress line\n" + report.ToJsonString() + "\n");
}
