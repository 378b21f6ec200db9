using System.Diagnostics.Metrics;
using AccessLayer.Gateway.Metrics;

namespace AccessLayer.Gateway.Tests.Metrics;

public sealed class PrometheusExporterTests
{
    [Fact]
    public void Single_tag_measurements_accumulate_per_tag_value_and_print_escaped_labels()
    {
        var meterName = "test.exporter." + Guid.NewGuid().ToString("N");
        using var meter = new Meter(meterName);
        using var exporter = new PrometheusExporter([meterName]);
        var counter = meter.CreateCounter<long>("errors");

        counter.Add(2, new KeyValuePair<string, object?>("reason", "Malformed"));
        counter.Add(3, new KeyValuePair<string, object?>("reason", "Malformed"));
        counter.Add(1, new KeyValuePair<string, object?>("reason", "say \"hi\""));
        counter.Add(7, new KeyValuePair<string, object?>("code", 5));
        counter.Add(1, new KeyValuePair<string, object?>("code", 5));

        var text = exporter.Scrape();

        Assert.Contains("accesslayer_errors_total{reason=\"Malformed\"} 5\n", text, StringComparison.Ordinal);
        Assert.Contains("accesslayer_errors_total{reason=\"say \\\"hi\\\"\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("accesslayer_errors_total{code=\"5\"} 8\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Multi_tag_and_single_tag_measurements_of_the_same_labels_share_one_series()
    {
        var meterName = "test.exporter." + Guid.NewGuid().ToString("N");
        using var meter = new Meter(meterName);
        using var exporter = new PrometheusExporter([meterName]);
        var counter = meter.CreateCounter<long>("moves");

        counter.Add(1, new KeyValuePair<string, object?>("listener", "mqtt"));
        counter.Add(4, new KeyValuePair<string, object?>("listener", "mqtt"), new KeyValuePair<string, object?>("reason", "drain"));
        counter.Add(10);

        var text = exporter.Scrape();

        Assert.Contains("accesslayer_moves_total 10\n", text, StringComparison.Ordinal);
        Assert.Contains("accesslayer_moves_total{listener=\"mqtt\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("accesslayer_moves_total{listener=\"mqtt\",reason=\"drain\"} 4\n", text, StringComparison.Ordinal);
    }
}
