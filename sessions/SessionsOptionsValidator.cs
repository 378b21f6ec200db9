using Microsoft.Extensions.Options;

namespace AccessLayer.Sessions;

/// <summary>Rejects <see cref="SessionsOptions"/> outside the ranges the session stores support.</summary>
internal sealed class SessionsOptionsValidator : IValidateOptions<SessionsOptions>
{
    public const int MaxQueueBound = 1_000_000;
    public const int MaxTopicLevelsBound = 1024;

    public ValidateOptionsResult Validate(string? name, SessionsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string>? failures = null;
        if (options.MaxQueuedMessagesPerSession is < 0 or > MaxQueueBound)
        {
            (failures ??= []).Add($"{nameof(SessionsOptions.MaxQueuedMessagesPerSession)} must be 0..{MaxQueueBound}, was {options.MaxQueuedMessagesPerSession}.");
        }

        if (!Enum.IsDefined(options.QueueDropPolicy))
        {
            (failures ??= []).Add($"{nameof(SessionsOptions.QueueDropPolicy)} '{options.QueueDropPolicy}' is not a known policy.");
        }

        if (options.MaxInflightMessages is < 1 or > ushort.MaxValue)
        {
            (failures ??= []).Add($"{nameof(SessionsOptions.MaxInflightMessages)} must be 1..65535 (packet identifiers), was {options.MaxInflightMessages}.");
        }

        if (options.MaxTopicLevels is < 1 or > MaxTopicLevelsBound)
        {
            (failures ??= []).Add($"{nameof(SessionsOptions.MaxTopicLevels)} must be 1..{MaxTopicLevelsBound}, was {options.MaxTopicLevels}.");
        }

        if (options.MaxQueuedBytesPerSession < 0 || options.MaxSessions < 0 || options.MaxRetainedMessages < 0 || options.MaxRetainedBytes < 0)
        {
            (failures ??= []).Add($"{nameof(SessionsOptions.MaxQueuedBytesPerSession)}, {nameof(SessionsOptions.MaxSessions)}, {nameof(SessionsOptions.MaxRetainedMessages)} and {nameof(SessionsOptions.MaxRetainedBytes)} must be 0 (no bound) or positive.");
        }

        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
