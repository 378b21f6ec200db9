using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Traffic;

/// <summary>With a table file, the node's site and the shared secret are required: routing and cookies cannot work without them.</summary>
internal sealed class TrafficOptionsValidator : IValidateOptions<TrafficOptions>
{
    public const int MinSecretLength = 16;

    public ValidateOptionsResult Validate(string? name, TrafficOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string> failures = [];
        if (options.UplinkRetryDelayMax < options.UplinkRetryDelay)
        {
            failures.Add("Traffic:UplinkRetryDelayMax is at least Traffic:UplinkRetryDelay.");
        }

        if (options.UplinkQueueBytes < options.UplinkBatchBytes)
        {
            failures.Add("Traffic:UplinkQueueBytes is at least Traffic:UplinkBatchBytes: a queue holds at least one batch.");
        }

        if (!options.IsEnabled)
        {
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }

        if (string.IsNullOrWhiteSpace(options.Site))
        {
            failures.Add("Traffic:Site is required with Traffic:TableFile: the site (of the table) this node belongs to.");
        }

        if (options.Secret is null || options.Secret.Length < MinSecretLength)
        {
            failures.Add($"Traffic:Secret is required with Traffic:TableFile, at least {MinSecretLength} characters, the same on every gateway.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
