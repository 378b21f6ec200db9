using AccessLayer.Sessions;
using AccessLayer.Sessions.Retained;
using AccessLayer.Sessions.Routing;
using AccessLayer.Sessions.Store;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

public static class SessionsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the embedded, one-node session layer: <see cref="ISessionStore"/>,
    /// <see cref="IRetainedMessageStore"/> and <see cref="ISubscriptionRouter"/> as in-memory
    /// singletons, <see cref="SessionsOptions"/> validated at start, and
    /// <see cref="TimeProvider.System"/> unless a <see cref="TimeProvider"/> is already registered.
    /// Bind configuration with <c>services.Configure&lt;SessionsOptions&gt;(section)</c> before or after.
    /// </summary>
    public static IServiceCollection AddInMemorySessions(this IServiceCollection services, Action<SessionsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<SessionsOptions> options = services.AddOptions<SessionsOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SessionsOptions>, SessionsOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ISessionStore, InMemorySessionStore>();
        services.TryAddSingleton<IRetainedMessageStore, InMemoryRetainedMessageStore>();
        services.TryAddSingleton<ISubscriptionRouter, InMemorySubscriptionRouter>();
        return services;
    }
}
