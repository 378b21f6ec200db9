using AccessLayer.Benchmarks.Mlp;

namespace AccessLayer.Mlp.Tests;

/// <summary>The headline of docs/benchmarks-mlp.md, checked on every run.</summary>
public sealed class WireBytesReportTests
{
    [Fact]
    public void MLP_is_at_least_4x_smaller_per_call_than_HTTP_1_1_with_JSON_and_gzip()
    {
        var results = WireBytesReport.Measure(calls: 400);
        var mlp = results.Single(r => r.Variant == WireBytesReport.MlpWithDictionary);
        var http11Gzip = results.Single(r => r.Variant == WireBytesReport.Http11JsonGzip);
        var noDictionary = results.Single(r => r.Variant == WireBytesReport.MlpWithoutDictionary);
        var http2 = results.Single(r => r.Variant == WireBytesReport.Http2JsonGzip);

        Assert.True(http11Gzip.BytesPerCall >= 4 * mlp.BytesPerCall, WireBytesReport.Render(results));
        Assert.True(noDictionary.BytesPerCall > mlp.BytesPerCall, "the dictionary must pay for itself");
        Assert.True(http2.BytesPerCall > mlp.BytesPerCall);
    }

    [Fact]
    public void The_workload_is_deterministic_and_within_the_stated_sizes()
    {
        var a = WireBytesWorkload.Generate(42, 300);
        var b = WireBytesWorkload.Generate(42, 300);
        Assert.Equal(a.Select(c => Convert.ToHexString(c.Response.ToJson())), b.Select(c => Convert.ToHexString(c.Response.ToJson())));
        Assert.All(a, c => Assert.InRange(c.Response.ToJson().Length, 100, 4096));
        Assert.Equal(5, a.Select(c => c.Service).Distinct().Count());
    }
}
