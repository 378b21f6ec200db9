using AccessLayer.Gateway.Mlp;
using BenchmarkDotNet.Attributes;

namespace AccessLayer.Benchmarks.Telemetry;

/// <summary>
/// What an instrument update costs on the hot path under each listener: the per-PUBLISH total (an interlocked
/// add sampled at scrape time: no listener callback at all), the per-read MLP byte counter (no tags), the
/// per-request MLP counter (two tags on the long link, three on the HTTP fallback).
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class TelemetryHotPathBenchmarks
{
    private static readonly KeyValuePair<string, object?> Service = MlpMetrics.Tag("service", "orders");
    private static readonly KeyValuePair<string, object?> Status = MlpMetrics.Tag("status", "2xx");
    private static readonly KeyValuePair<string, object?> Transport = MlpMetrics.Tag("transport", "http");
    private TelemetryBed _bed = null!;

    [Params(TelemetryBed.None, TelemetryBed.HandWritten, TelemetryBed.OpenTelemetry)]
    public string Listener { get; set; } = TelemetryBed.None;

    [GlobalSetup]
    public void Setup()
    {
        _bed = new TelemetryBed(Listener);
        _bed.Populate();
    }

    [GlobalCleanup]
    public void Cleanup() => _bed.Dispose();

    [Benchmark(Description = "PUBLISH received (observable total)")]
    public void PublishCounted() => _bed.Gateway.MessageReceived();

    [Benchmark(Description = "MLP bytes received (counter, no tag)")]
    public void MlpBytes() => _bed.Mlp.BytesReceived.Add(64);

    [Benchmark(Description = "MLP request (counter, 2 tags)")]
    public void MlpRequest() => _bed.Mlp.Requests.Add(1, Service, Status);

    [Benchmark(Description = "MLP fallback request (counter, 3 tags)")]
    public void MlpFallbackRequest() => _bed.Mlp.Requests.Add(1, Service, Status, Transport);
}
