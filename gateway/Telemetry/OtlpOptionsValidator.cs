using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Telemetry;

/// <summary>Start-time checks of the <c>Otlp</c> section, each naming its key.</summary>
internal sealed class OtlpOptionsValidator : IValidateOptions<OtlpOptions>
{
    public ValidateOptionsResult Validate(string? name, OtlpOptions options)
    {
        if (options.IsEnabled
            && (!Uri.TryCreate(options.Endpoint, UriKind.Absolute, out var endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps)))
        {
            return ValidateOptionsResult.Fail($"Otlp:Endpoint '{options.Endpoint}' must be an absolute http:// or https:// address.");
        }

        if (!string.Equals(options.Protocol, "grpc", StringComparison.OrdinalIgnoreCase) && !options.IsHttpProtobuf)
        {
            return ValidateOptionsResult.Fail($"Otlp:Protocol '{options.Protocol}' must be grpc or http/protobuf.");
        }

        if (double.IsNaN(options.TraceSampleRatio) || options.TraceSampleRatio is < 0 or > 1)
        {
            return ValidateOptionsResult.Fail($"Otlp:TraceSampleRatio ({options.TraceSampleRatio}) must be between 0 and 1.");
        }

        if (options.MetricExportInterval < TimeSpan.FromMilliseconds(100) || options.MetricExportInterval > TimeSpan.FromHours(1))
        {
            return ValidateOptionsResult.Fail($"Otlp:MetricExportInterval ({options.MetricExportInterval}) must be between 00:00:00.1 and 01:00:00.");
        }

        if (string.IsNullOrWhiteSpace(options.ServiceName))
        {
            return ValidateOptionsResult.Fail("Otlp:ServiceName must not be empty.");
        }

        if (options.Headers is { Length: > 0 } headers
            && headers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Any(h => h.IndexOf('=', StringComparison.Ordinal) <= 0))
        {
            return ValidateOptionsResult.Fail("Otlp:Headers must be key=value pairs separated by commas.");
        }

        return ValidateOptionsResult.Success;
    }
}
