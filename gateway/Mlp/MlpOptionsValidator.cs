using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Mlp;

/// <summary>Rules DataAnnotations cannot say: route URLs, heartbeat ordering, ticket secret length, the coalescing window.</summary>
internal sealed class MlpOptionsValidator : IValidateOptions<MlpOptions>
{
    /// <summary>A set ticket secret is the only key material shared by nodes: short ones are guessable offline.</summary>
    public const int MinTicketSecretLength = 16;

    /// <summary>Longest coalescing window: an answer kept longer than an hour is a cache, which this is not.</summary>
    public static readonly TimeSpan MaxCallCoalescingWindow = TimeSpan.FromHours(1);

    public ValidateOptionsResult Validate(string? name, MlpOptions options)
    {
        var failures = new List<string>();
        foreach (var (service, route) in options.Routes)
        {
            if (!Uri.TryCreate(route.Url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                failures.Add($"Mlp:Routes:{service}:Url must be an absolute http(s) URL, not '{route.Url}'.");
            if (route.TimeoutSeconds is < 0 or > 3600)
                failures.Add($"Mlp:Routes:{service}:TimeoutSeconds must be within 0..3600.");
        }

        if (options.HeartbeatMinIntervalSeconds > options.HeartbeatIntervalSeconds || options.HeartbeatIntervalSeconds > options.HeartbeatMaxIntervalSeconds)
            failures.Add("Mlp heartbeat intervals must satisfy Min <= Interval <= Max.");
        if (options.IdleTimeoutSeconds < options.HeartbeatMaxIntervalSeconds + options.PongTimeoutSeconds)
            failures.Add("Mlp:IdleTimeoutSeconds must be at least HeartbeatMaxIntervalSeconds + PongTimeoutSeconds (docs/protocol.md §11).");
        if (options.TicketSecret.Length is > 0 and < MinTicketSecretLength)
            failures.Add($"Mlp:TicketSecret must be at least {MinTicketSecretLength} characters when set (empty: a random key per process).");
        if (options.MaxPushStoreBytes < options.MaxQueuedPushBytes)
            failures.Add("Mlp:MaxPushStoreBytes must be at least Mlp:MaxQueuedPushBytes.");
        if (options.PushExpiry <= TimeSpan.Zero)
            failures.Add("Mlp:PushExpiry must be positive.");
        if (options.CallCoalescingWindow < TimeSpan.Zero || options.CallCoalescingWindow > MaxCallCoalescingWindow)
            failures.Add("Mlp:CallCoalescingWindow must be within 00:00:00 (off) and 01:00:00.");
        if (options.TcpRtoMin != TimeSpan.Zero && (options.TcpRtoMin < Transport.TcpLossRecovery.MinRtoMin || options.TcpRtoMin > Transport.TcpLossRecovery.MaxRtoMin))
            failures.Add("Mlp:TcpRtoMin must be 00:00:00 (the kernel's default) or within 5-200 ms (the kernel's bounds).");
        foreach (var key in options.TokenSecrets.Keys)
        {
            if (!uint.TryParse(key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
                failures.Add($"Mlp:TokenSecrets keys are key ids (unsigned integers), not '{key}'.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
