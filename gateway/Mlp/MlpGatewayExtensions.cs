using System.Net;
using AccessLayer.Gateway.Connections;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Mlp.Auth;
using AccessLayer.Gateway.Mlp.Connections;
using AccessLayer.Gateway.Mlp.Dictionaries;
using AccessLayer.Gateway.Mlp.Fleet;
using AccessLayer.Gateway.Mlp.Http;
using AccessLayer.Gateway.Mlp.Push;
using AccessLayer.Gateway.Mlp.Routing;
using AccessLayer.Gateway.Transport;
using AccessLayer.SessionGrains.Durable;
using AccessLayer.SessionGrains.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Mlp;

/// <summary>Wires the mobile link protocol into the gateway host: one call on the builder, one on the app.</summary>
public static class MlpGatewayExtensions
{
    /// <summary>
    /// Registers the MLP services (options from <c>Mlp:*</c>, the device-token authenticator, the
    /// in-memory session store, dictionaries, routes) and the TCP listener on <c>Mlp:Port</c>, under the same
    /// connection governance as MQTT (listener name <c>mlp</c>).
    /// Replace <see cref="IMlpAuthenticator"/> or <see cref="IMlpSessionStore"/> by registering your own.
    /// </summary>
    public static WebApplicationBuilder AddMlpGateway(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<MlpOptions>().Bind(builder.Configuration.GetSection(MlpOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<MlpOptions>, MlpOptionsValidator>();
        services.TryAddSingleton<IMlpAuthenticator, MlpDeviceTokenAuthenticator>();
        services.TryAddSingleton<IMlpSessionStore, InMemoryMlpSessionStore>();
        services.AddSingleton<MlpResumeTicketProtector>();
        services.AddSingleton<MlpDictionaryStore>();
        services.AddSingleton<MlpServiceRouter>();
        services.AddSingleton<MlpCallCoalescer>();
        services.AddSingleton<MlpConnectionRegistry>();
        services.AddSingleton<MlpFleetSessions>();
        var fleet = builder.Configuration.GetSection(FleetOptions.SectionName).Get<FleetOptions>() ?? new FleetOptions();
        if (fleet.IsEnabled)
        {
            // Offline devices' sessions and pushes wait in the fleet's Redis, bounded like the in-memory store.
            services.AddSingleton<IMlpPushQueue>(sp =>
            {
                var mlp = sp.GetRequiredService<IOptions<MlpOptions>>().Value;
                return new RedisMlpPushQueue(sp.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>(), RedisDurableQueueOptions.KeyPrefixFor(fleet.ClusterId), mlp.MaxQueuedPushes, mlp.PushExpiry);
            });
        }

        services.AddSingleton<AccessLayer.Gateway.Governance.IDrainParticipant, MlpDrainParticipant>();
        services.AddSingleton<MlpMetrics>();
        services.AddSingleton<MlpGateway>();
        services.AddSingleton<MlpMaintenance>();
        services.AddHostedService(sp => sp.GetRequiredService<MlpMaintenance>());
        // No logging handlers: they wrote four Information lines and opened a log scope per backend call (failures are
        // logged by MlpLog 2010, calls counted in accesslayer_mlp_requests_total, traced as mlp.request).
        services.AddHttpClient(MlpHttpBackendService.HttpClientName)
            .RemoveAllLoggers()
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                ConnectTimeout = TimeSpan.FromSeconds(5),
                EnableMultipleHttp2Connections = true,
                UseCookies = false,
                AllowAutoRedirect = false,
            });

        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var mlp = context.Configuration.GetSection(MlpOptions.SectionName).Get<MlpOptions>() ?? new MlpOptions();
            if (mlp.Port > 0)
                kestrel.Listen(ParseAddress(mlp.BindAddress), mlp.Port, listen => listen
                    .UseConnectionGovernance(ListenerNames.Mlp, MlpAdmissionRefusal.Writer(listen.ApplicationServices))
                    .UseMlpLossRecovery()
                    .UseLingeringClose()
                    .UseConnectionHandler<MlpConnectionHandler>());
        });
        return builder;
    }

    /// <summary>
    /// Maps the device routes <c>/mlp</c> (WebSocket), <c>POST /mlp/v1/request</c> (fallback) and
    /// <c>GET /mlp/v1/dictionaries/{id}</c> into <paramref name="device"/>, and the operator routes
    /// <c>POST push</c> and <c>POST mlp/dictionaries/reload</c> into <paramref name="managementApi"/>
    /// (the management surface's <c>/api/v1</c> group, behind its bearer token).
    /// </summary>
    public static WebApplication MapMlp(this WebApplication app, IEndpointRouteBuilder device, IEndpointRouteBuilder managementApi)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(managementApi);
        _ = app.Services.GetRequiredService<MlpMetrics>();
        app.UseWebSockets();
        device.Map("/mlp", (HttpContext context, MlpGateway gateway) => MlpWebSocketEndpoint.HandleAsync(context, gateway));
        device.MapPost("/mlp/v1/request", (HttpContext context, MlpGateway gateway) => MlpFallbackEndpoint.HandleAsync(context, gateway));
        device.MapGet("/mlp/v1/dictionaries/{id}", (HttpContext context, MlpGateway gateway, uint id) => MlpDictionaryEndpoints.HandleGetAsync(context, gateway, id));
        managementApi.MapPost("/push", (HttpContext context, MlpGateway gateway) => MlpPushEndpoint.HandleAsync(context, gateway));
        managementApi.MapPost("/mlp/dictionaries/reload", (MlpGateway gateway) => MlpDictionaryEndpoints.Reload(gateway));
        return app;
    }

    private static IPAddress ParseAddress(string address) => address switch
    {
        "*" or "0.0.0.0" or "" => IPAddress.Any,
        "::" or "[::]" => IPAddress.IPv6Any,
        "localhost" => IPAddress.Loopback,
        _ => IPAddress.Parse(address),
    };
}
