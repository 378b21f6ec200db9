using System.Collections.Frozen;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Mlp.Routing;

/// <summary>
/// Resolves <c>:service</c> to a service: the configured <c>Mlp:Routes</c>, the built-in echo, and
/// any <see cref="IMlpService"/> registered in code with <see cref="MlpServiceRegistration"/>.
/// </summary>
internal sealed class MlpServiceRouter
{
    private readonly FrozenDictionary<string, (IMlpService Service, TimeSpan Timeout)> _services;

    public MlpServiceRouter(IOptions<MlpOptions> options, IHttpClientFactory clients, IEnumerable<MlpServiceRegistration> registrations, ILogger<MlpServiceRouter> logger)
    {
        var current = options.Value;
        var fallbackTimeout = TimeSpan.FromSeconds(current.RequestTimeoutSeconds);
        var services = new Dictionary<string, (IMlpService, TimeSpan)>(StringComparer.Ordinal);
        if (current.EnableEcho)
            services[MlpEchoService.Name] = (new MlpEchoService(), fallbackTimeout);
        foreach (var (name, route) in current.Routes)
        {
            var timeout = route.TimeoutSeconds > 0 ? TimeSpan.FromSeconds(route.TimeoutSeconds) : fallbackTimeout;
            services[name] = (new MlpHttpBackendService(name, route, clients, logger), timeout);
        }

        foreach (var registration in registrations)
            services[registration.Name] = (registration.Service, fallbackTimeout);
        _services = services.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public bool TryGet(string name, out IMlpService service, out TimeSpan timeout)
    {
        if (_services.TryGetValue(name, out var entry))
        {
            service = entry.Service;
            timeout = entry.Timeout;
            return true;
        }

        service = null!;
        timeout = default;
        return false;
    }
}

/// <summary>An in-process service added in code: <c>services.AddSingleton(new MlpServiceRegistration("name", impl))</c>.</summary>
public sealed record MlpServiceRegistration(string Name, IMlpService Service);
