using AccessLayer.Bots.Cli;
using AccessLayer.Bots.Metrics;
using AccessLayer.Bots.Reporting;
using AccessLayer.Bots.Workers;

namespace AccessLayer.Bots.Tests.Workers;

public sealed class WorkerPoolTests
{
    private static readonly BotOptions Parent = new()
    {
        Scenario = ScenarioKind.Conn,
        Count = 15_001,
        Workers = 4,
        ConnectRate = 4000,
        SourceAddresses = 8,
        BrokerPid = 42,
    };

    [Fact]
    public void Children_share_the_count_exactly()
    {
        var children = Enumerable.Range(0, 4).Select(i => WorkerPool.ChildOptions(Parent, i)).ToList();
        Assert.Equal(15_001, children.Sum(c => c.Count));
        Assert.True(children.Max(c => c.Count) - children.Min(c => c.Count) <= 1);
    }

    [Fact]
    public void Children_split_the_connect_rate_and_use_disjoint_source_addresses()
    {
        var children = Enumerable.Range(0, 4).Select(i => WorkerPool.ChildOptions(Parent, i)).ToList();
        Assert.All(children, c => Assert.Equal(1000, c.ConnectRate));
        var ranges = children.SelectMany(c => Enumerable.Range(c.SourceOffset, c.SourceAddresses)).ToList();
        Assert.Equal(8, ranges.Distinct().Count());
    }

    [Fact]
    public void Children_are_quiet_json_workers_without_the_broker_pid()
    {
        var child = WorkerPool.ChildOptions(Parent, 2);
        Assert.Equal(2, child.WorkerIndex);
        Assert.True(child.IsWorkerChild);
        Assert.Equal(1, child.Workers);
        Assert.True(child.Json);
        Assert.True(child.Quiet);
        Assert.Null(child.BrokerPid);
        Assert.Contains("--worker-index", child.ToArgs());
    }

    [Fact]
    public void Merge_sums_counts_and_errors_and_merges_histograms()
    {
        BotReport Child(long established, long latency)
        {
            var histogram = new LatencyHistogram();
            for (var i = 0; i < established; i++)
            {
                histogram.Record(latency);
            }

            var report = new BotReport { MqttVersion = "3.1.1", ConnectHistogram = HistogramData.From(histogram) };
            report.Connections.Established = established;
            report.Connections.Failed = 1;
            report.Connections.ConnectSeconds = established / 100.0;
            report.Errors["socket_ConnectionRefused"] = 1;
            return report;
        }

        var merged = WorkerPool.Merge(Parent, [Child(300, 100), Child(100, 5000)], [new("worker_no_report", 1)], 10);
        Assert.Equal(400, merged.Connections.Established);
        Assert.Equal(2, merged.Connections.Failed);
        Assert.Equal(3.0, merged.Connections.ConnectSeconds);
        Assert.Equal(133.3, merged.Connections.ConnectRate);
        Assert.Equal(2, merged.Errors["socket_ConnectionRefused"]);
        Assert.Equal(1, merged.Errors["worker_no_report"]);
        Assert.Equal(400, merged.Connections.ConnectLatency.Count);
        Assert.Equal(100, merged.Connections.ConnectLatency.P50);
        Assert.Equal(5000, merged.Connections.ConnectLatency.Max);
    }
}
