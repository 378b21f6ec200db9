using System.Collections.Frozen;
using AccessLayer.Gateway.Traffic;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Mlp.Routing;

/// <summary>
/// Resolves <c>:service</c> to a service: the configured <c>Mlp:Routes</c>, the built-in echo, and
/// any <see cref="IMlpService"/> registered in code with <see cref="MlpServiceRegistration"/>. With a traffic table
/// (<c>Traffic:TableFile</c>, docs/traffic.md) a service the table in force has in some zone is routed by the table
/// first; without one, by these alone.
/// </summary>
internal sealed class MlpServiceRouter
{
    private readonly FrozenDictionary<string, (IMlpService Service, TimeSpan Timeout)> _services;
    private readonly TrafficRouter _traffic;
    private readonly TimeSpan _fallbackTimeout;

    public MlpServiceRouter(IOptions<MlpOptions> options, IHttpMessageHandlerFactory clients, IEnumerable<MlpServiceRegistration> registrations, TrafficRouter traffic, ILogger<MlpServiceRouter> logger)
    {
        var current = options.Value;
        _traffic = traffic;
        _fallbackTimeout = TimeSpan.FromSeconds(current.RequestTimeoutSeconds);
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
        if (_traffic.TryGet(name, out service))
        {
            timeout = _services.TryGetValue(name, out var route) ? route.Timeout : _fallbackTimeout;
            return true;
        }

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
