using System.Net;
using Microsoft.Extensions.Options;

namespace AccessLayer.SessionGrains.Hosting;

/// <summary>Checks what data annotations cannot: addresses and endpoints parse.</summary>
internal sealed class FleetOptionsValidator : IValidateOptions<FleetOptions>
{
    public ValidateOptionsResult Validate(string? name, FleetOptions options)
    {
        var failures = new List<string>();
        if (!IPAddress.TryParse(options.AdvertisedAddress, out _))
        {
            failures.Add($"Fleet:AdvertisedAddress '{options.AdvertisedAddress}' is not an IP address.");
        }

        foreach (var (key, value) in new[] { ("Fleet:MqttEndpoint", options.MqttEndpoint), ("Fleet:MlpEndpoint", options.MlpEndpoint) })
        {
            if (value is not null && !FleetEndpoint.TryParse(value, out _, out _))
            {
                failures.Add($"{key} '{value}' is not host:port.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
