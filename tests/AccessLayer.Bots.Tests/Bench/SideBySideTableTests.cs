using System.Text.Json.Nodes;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Bots.Tests.Bench;

/// <summary>
/// bench/side-by-side/table.py run by python3 on bot reports written the way run.sh writes them. A broken
/// run must not become a figure: mosquitto's unpaced QoS 0 rows once read "0 (100.0% dropped)" with a
/// ratio, and the script exited 0.
/// </summary>
public sealed class SideBySideTableTests : IDisposable
{
    private static readonly string[] Brokers = ["gateway", "mosquitto", "mqttnet"];
    private static readonly string[] Runs = ["conn", "p2p-q0", "p2p-q1", "fan-in-q0", "fan-in-q1", "fan-out-q0", "fan-out-q1", "latency-q0", "latency-q1"];
    private readonly string _out = Directory.CreateTempSubdirectory("side-by-side-table-").FullName;

    public SideBySideTableTests()
    {
        foreach (var broker in Brokers)
        {
            foreach (var run in Runs)
            {
                Write(broker, run, Report());
            }
        }
    }

    public void Dispose() => Directory.Delete(_out, recursive: true);

    [Fact]
    public async Task Sound_runs_give_figures_and_ratios_against_each_peer_and_exit_zero()
    {
        var (code, table) = await TableAsync();

        Assert.Equal(0, code);
        Assert.DoesNotContain("broken", table, StringComparison.Ordinal);
        Assert.Contains("| figure (payload 64 B) | gateway | mosquitto | MQTTnet | gateway ÷ mosquitto | gateway ÷ MQTTnet |", table, StringComparison.Ordinal);
        Assert.Contains("| p2p QoS 0, delivered msg/s | 1,000 | 1,000 | 1,000 | 1.00× (better) | 1.00× (better) |", table, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_that_received_nothing_is_refused_with_its_reason_and_the_script_fails()
    {
        var report = Report();
        report["messages"]!["received"] = 0;
        report["messages"]!["lost"] = 100;
        report["messages"]!["receiveRate"] = 0;
        Write("mosquitto", "p2p-q0", report);

        var (code, table) = await TableAsync();

        Assert.Equal(1, code);
        Assert.Contains("| p2p QoS 0, delivered msg/s | 1,000 | broken: no messages received | 1,000 | n/a | 1.00× (better) |", table, StringComparison.Ordinal);
        Assert.DoesNotContain("100.0% dropped", table, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bot_errors_a_client_that_did_not_connect_a_dead_broker_and_a_failed_bot_are_each_refused()
    {
        var errors = Report();
        errors["errors"] = new JsonObject { ["connection_closed_by_broker"] = 3 };
        Write("gateway", "fan-in-q1", errors);
        var unconnected = Report();
        unconnected["connections"]!["established"] = 7;
        Write("mqttnet", "conn", unconnected);
        File.WriteAllText(Path.Combine(_out, "mosquitto-latency-q1.dead"), "during latency-q1\n");
        File.WriteAllText(Path.Combine(_out, "mqttnet-fan-out-q1.failed"), "exit status 124, timed out after 180 s\n");

        var (code, table) = await TableAsync();

        Assert.Equal(1, code);
        Assert.Contains("| fan-in QoS 1, delivered msg/s | broken: bot errors: connection_closed_by_broker 3 | 1,000 | 1,000 | n/a | n/a |", table, StringComparison.Ordinal);
        Assert.Contains("| connect rate, conn/s (15,000 connections) | 500 | 500 | broken: 7 of 10 clients connected |", table, StringComparison.Ordinal);
        Assert.Contains("| broker RSS per idle connection, KB | 1.50 | 1.50 | broken: 7 of 10 clients connected |", table, StringComparison.Ordinal);
        Assert.Contains("| latency p99 µs, QoS 1 | 20 | broken: the broker died (during latency-q1) | 20 |", table, StringComparison.Ordinal);
        Assert.Contains("broken: the bot failed (exit status 124, timed out after 180 s)", table, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Memory_that_fell_during_the_hold_gives_no_figure_and_no_ratio()
    {
        // The gateway trims memory once a connect storm is quiet; a short hold can read less than before the connects.
        var trimmed = Report();
        trimmed["brokerMemory"]!["kbPerConnection"] = -1.4;
        Write("gateway", "conn", trimmed);

        var (code, table) = await TableAsync();

        Assert.Equal(0, code);
        Assert.Contains("| broker RSS per idle connection, KB | n/a (RSS fell during the hold: trimmed) | 1.50 | 1.50 | n/a | n/a |", table, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_report_is_refused_too()
    {
        File.Delete(Path.Combine(_out, "mqttnet-latency-q0.json"));

        var (code, table) = await TableAsync();

        Assert.Equal(1, code);
        Assert.Contains("| latency p50 µs, QoS 0 (5,000 msg/s offered, p2p 100 pairs) | 10 | 10 | broken: no result |", table, StringComparison.Ordinal);
    }

    private async Task<(int Code, string Table)> TableAsync()
    {
        var script = Path.Combine(RepositoryRoot.Path, "bench", "side-by-side", "table.py");
        var (code, output, error) = await RepositoryProcess.RunAsync("/usr/bin/python3", [script, _out, "15000", "100", "50", "64", string.Join(',', Brokers)], TimeSpan.FromSeconds(30));
        Assert.True(error.Length == 0, error);
        return (code, output);
    }

    /// <summary>A sound report as the bots print it with --json (the fields the table reads).</summary>
    private static JsonObject Report() => new()
    {
        ["connections"] = new JsonObject
        {
            ["target"] = 10, ["established"] = 10, ["failed"] = 0, ["connectRate"] = 500.0,
            ["connectLatency"] = new JsonObject { ["p99"] = 900 }, ["lost"] = 0,
        },
        ["brokerMemory"] = new JsonObject { ["kbPerConnection"] = 1.5 },
        ["messages"] = new JsonObject { ["published"] = 100, ["received"] = 100, ["expected"] = 100, ["lost"] = 0, ["receiveRate"] = 1000.0 },
        ["latency"] = new JsonObject { ["p50"] = 10, ["p99"] = 20 },
        ["errors"] = new JsonObject(),
    };

    private void Write(string broker, string run, JsonObject report) =>
        File.WriteAllText(Path.Combine(_out, $"{broker}-{run}.json"), "progress line\n" + report.ToJsonString() + "\n");
}
