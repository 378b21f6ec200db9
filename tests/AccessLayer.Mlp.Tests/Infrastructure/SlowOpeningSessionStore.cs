using AccessLayer.Gateway.Mlp.Push;
using Microsoft.Extensions.DependencyInjection;

namespace AccessLayer.Mlp.Tests.Infrastructure;

/// <summary>
/// The gateway's in-memory session store, opening a connection's session only after <c>opening</c> has run: a store that answers
/// later (as the fleet's does, through Orleans and Redis), or one that takes a while on the gateway's clock.
/// </summary>
internal sealed class SlowOpeningSessionStore(InMemoryMlpSessionStore inner, Func<ValueTask> opening) : IMlpSessionStore
{
    /// <summary>Makes the gateway's session store one that runs <paramref name="opening"/> before each open.</summary>
    public static void Register(IServiceCollection services, Func<ValueTask> opening)
    {
        services.AddSingleton<InMemoryMlpSessionStore>();
        services.AddSingleton<IMlpSessionStore>(s => new SlowOpeningSessionStore(s.GetRequiredService<InMemoryMlpSessionStore>(), opening));
    }

    public async ValueTask<MlpSessionOpenResult> OpenAsync(string deviceId, string userId, string? resumeSessionId, ulong lastProcessedSequence, CancellationToken cancellationToken = default)
    {
        await opening();
        return await inner.OpenAsync(deviceId, userId, resumeSessionId, lastProcessedSequence, cancellationToken);
    }

    public ValueTask<MlpEnqueueOutcome> EnqueueAsync(string deviceId, MlpPushMessage push, CancellationToken cancellationToken = default) => inner.EnqueueAsync(deviceId, push, cancellationToken);

    public ValueTask<IReadOnlyList<MlpSequencedPush>> TakeAsync(MlpSessionHandle session, int window, CancellationToken cancellationToken = default) => inner.TakeAsync(session, window, cancellationToken);

    public ValueTask<int> AcknowledgeAsync(MlpSessionHandle session, ulong sequence, CancellationToken cancellationToken = default) => inner.AcknowledgeAsync(session, sequence, cancellationToken);

    public ValueTask<IReadOnlyList<string>> GetUserDevicesAsync(string userId, CancellationToken cancellationToken = default) => inner.GetUserDevicesAsync(userId, cancellationToken);

    public ValueTask<int> CountAsync(string deviceId, CancellationToken cancellationToken = default) => inner.CountAsync(deviceId, cancellationToken);
}
