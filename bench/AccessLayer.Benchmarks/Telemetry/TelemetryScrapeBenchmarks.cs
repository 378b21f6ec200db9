using BenchmarkDotNet.Attributes;

namespace AccessLayer.Benchmarks.Telemetry;

/// <summary>One <c>/metrics</c> page of a busy node (<see cref="TelemetryBed.Populate"/>: about 170 series) by each exporter.</summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class TelemetryScrapeBenchmarks
{
    private readonly MemoryStream _page = new(64 * 1024);
    private TelemetryBed _bed = null!;

    [Params(TelemetryBed.HandWritten, TelemetryBed.OpenTelemetry)]
    public string Listener { get; set; } = TelemetryBed.HandWritten;

    [GlobalSetup]
    public void Setup()
    {
        _bed = new TelemetryBed(Listener);
        _bed.Populate();
        _bed.ScrapeAsync(_page).GetAwaiter().GetResult();
        Console.WriteLine($"// {Listener}: {_page.Length} bytes, {System.Text.Encoding.UTF8.GetString(_page.ToArray()).Split('\n').Count(l => l.Length > 0 && l[0] != '#')} series");
    }

    [GlobalCleanup]
    public void Cleanup() => _bed.Dispose();

    [Benchmark]
    public async Task<long> Scrape()
    {
        _page.SetLength(0);
        await _bed.ScrapeAsync(_page);
        return _page.Length;
    }
}
