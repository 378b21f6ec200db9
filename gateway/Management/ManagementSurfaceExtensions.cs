using AccessLayer.SessionGrains.Fleet;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Telemetry;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Management;

/// <summary>Wires the two HTTP surfaces: the services, the management listener and its routes.</summary>
internal static class ManagementSurfaceExtensions
{
    /// <summary>The <c>Management</c> section (with <c>Admin:Token</c>, its older name, read when <c>Management:Token</c> is unset), the token set and the routing policy that splits the surfaces.</summary>
    public static IServiceCollection AddManagementSurface(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ManagementOptions>()
            .Bind(configuration.GetSection(ManagementOptions.SectionName))
            .PostConfigure(o => o.Token = string.IsNullOrEmpty(o.Token) ? configuration["Admin:Token"] : o.Token)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ManagementOptions>, ManagementOptionsValidator>();
        services.AddSingleton<ManagementTokens>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, HttpSurfacePolicy>());
        return services;
    }

    /// <summary>
    /// Maps the management surface's own routes (<c>/healthz</c>, <c>/readyz</c>, <c>/metrics</c>,
    /// answering without a token) and returns the <c>/api/v1</c> group every other management route
    /// goes into: on the management port only, behind the bearer token.
    /// </summary>
    public static RouteGroupBuilder MapManagementSurface(this WebApplication app)
    {
        app.UseMiddleware<ManagementAuthorization>();
        // Once started: the options are validated at start, not here.
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var options = app.Services.GetRequiredService<IOptions<ManagementOptions>>().Value;
            var logger = app.Services.GetRequiredService<ILogger<ManagementAuthorization>>();
            if (options.Port > 0)
            {
                ManagementLog.Listening(logger, options.BindAddress, options.Port);
                if (!app.Services.GetRequiredService<ManagementTokens>().IsConfigured)
                {
                    ManagementLog.NoToken(logger);
                }
            }
        });

        var management = app.MapGroup(string.Empty).OnSurface(HttpSurface.Management);
        var probes = management.MapGroup(string.Empty).WithoutManagementToken();
        probes.MapGet("/healthz", () => Results.Text("ok"));
        probes.MapGet("/readyz", (GatewayReadiness readiness, IFleet fleet) =>
            !fleet.Ready.IsCompletedSuccessfully ? Results.Text("joining the fleet", statusCode: StatusCodes.Status503ServiceUnavailable)
            : readiness.IsReady ? Results.Text("ready") : Results.Text("draining", statusCode: StatusCodes.Status503ServiceUnavailable));
        // The OpenTelemetry SDK's Prometheus exporter (gateway/Telemetry): same port, same token-free rule as the probes.
        probes.MapMetrics();
        return management.MapGroup("/api/v1");
    }
}
