using AccessLayer.Gateway.Telemetry;

namespace AccessLayer.Gateway.Tests.Telemetry;

public sealed class OtlpOptionsValidatorTests
{
    private static string? Failure(OtlpOptions options) => new OtlpOptionsValidator().Validate(null, options).FailureMessage;

    [Fact]
    public void The_defaults_and_a_collector_address_are_valid()
    {
        Assert.Null(Failure(new OtlpOptions()));
        Assert.Null(Failure(new OtlpOptions { Endpoint = "http://collector:4318", Protocol = "http/protobuf", Headers = "api-key=s3cret, tenant=a" }));
    }

    [Theory]
    [InlineData("collector:4317", "Otlp:Endpoint")]
    [InlineData("ftp://collector", "Otlp:Endpoint")]
    public void An_endpoint_that_is_not_an_http_address_is_refused_by_name(string endpoint, string key) =>
        Assert.Contains(key, Failure(new OtlpOptions { Endpoint = endpoint }), StringComparison.Ordinal);

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void A_sample_ratio_outside_zero_to_one_is_refused(double ratio) =>
        Assert.Contains("Otlp:TraceSampleRatio", Failure(new OtlpOptions { TraceSampleRatio = ratio }), StringComparison.Ordinal);

    [Fact]
    public void Unknown_protocols_short_intervals_and_malformed_headers_are_refused()
    {
        Assert.Contains("Otlp:Protocol", Failure(new OtlpOptions { Protocol = "http/json" }), StringComparison.Ordinal);
        Assert.Contains("Otlp:MetricExportInterval", Failure(new OtlpOptions { MetricExportInterval = TimeSpan.Zero }), StringComparison.Ordinal);
        Assert.Contains("Otlp:Headers", Failure(new OtlpOptions { Headers = "no-equals-sign" }), StringComparison.Ordinal);
    }
}
