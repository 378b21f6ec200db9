using System.Net;
using AccessLayer.Gateway.Connections;
using AccessLayer.Gateway.Dashboard;
using Microsoft.AspNetCore.Connections;
using AccessLayer.Gateway.Fleet;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Management;
using AccessLayer.Gateway.Metrics;
using AccessLayer.Gateway.Mlp;
using AccessLayer.Gateway.Mlp.Connections;
using AccessLayer.Gateway.Mqtt;
using AccessLayer.Gateway.Telemetry;
using AccessLayer.Gateway.Traffic;
using AccessLayer.Gateway.Transport;
using AccessLayer.SessionGrains.Fleet;
using AccessLayer.SessionGrains.Hosting;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Hosting;

/// <summary>
/// Builds the gateway: Kestrel listeners for each protocol plus two HTTP surfaces, all from
/// configuration. Devices reach <c>Http:Port</c>/<c>Http:TlsPort</c> (<c>/mqtt</c>, <c>/mlp</c>,
/// the MLP fallback and dictionaries); operators and backends reach <c>Management:Port</c>
/// (probes, metrics, push, admin); a route answers on its own surface only.
/// </summary>
public static class GatewayApp
{
    public static WebApplication Build(string[] args, Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);

        builder.Services.AddOptions<MqttOptions>().Bind(builder.Configuration.GetSection(MqttOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<HttpOptions>().Bind(builder.Configuration.GetSection(HttpOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<GatewayMetrics>();
        builder.AddGatewayTelemetry();
        // Before the broker: in a fleet it replaces the in-memory route table the broker would add.
        builder.AddFleet();
        builder.Services.AddSingleton<GatewayFleetMember>();
        if (builder.Configuration.GetSection(FleetOptions.SectionName).Get<FleetOptions>()?.IsEnabled == true)
        {
            builder.Services.AddSingleton<AccessLayer.Gateway.Governance.IDrainTargets, FleetDrainTargets>();
        }

        builder.Services.AddMqttBroker(builder.Configuration);
        builder.AddMlpGateway();
        builder.Services.AddTraffic(builder.Configuration);
        builder.Services.AddGatewayGovernance(builder.Configuration);
        builder.Services.AddManagementSurface(builder.Configuration);
        builder.Services.AddDashboard(builder.Configuration);
        builder.Services.AddOptions<TransportOptions>().Bind(builder.Configuration.GetSection(TransportOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<MemoryOptions>().Bind(builder.Configuration.GetSection(MemoryOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHostedService<MemoryTrimmer>();
        configureServices?.Invoke(builder.Services);

        var transport = builder.Configuration.GetSection(TransportOptions.SectionName).Get<TransportOptions>() ?? new TransportOptions();
        var engine = transport.EffectiveEngine;
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = transport.InlineScheduling);
        if (engine == TransportEngine.Epoll)
        {
            // Outside Kestrel: its own accept loop and pipeline (no KestrelConnection per connection).
            builder.Services.AddSingleton<EpollMqttListener>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<EpollMqttListener>());
            builder.Services.AddSingleton<Transport.Tls.TlsServer>();
            builder.Services.AddSingleton<EpollTlsListeners>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<EpollTlsListeners>());
        }

        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var mqtt = context.Configuration.GetSection(MqttOptions.SectionName).Get<MqttOptions>() ?? new MqttOptions();
            var http = context.Configuration.GetSection(HttpOptions.SectionName).Get<HttpOptions>() ?? new HttpOptions();
            kestrel.AddServerHeader = false;
            if (mqtt.Port > 0 && engine != TransportEngine.Epoll)
            {
                var address = ParseAddress(mqtt.BindAddress);
                kestrel.Listen(new IPEndPoint(address, mqtt.Port), listen => listen.UseConnectionGovernance(ListenerNames.MqttTcp).UseLingeringClose().UseConnectionHandler<MqttConnectionHandler>());
            }

            if (http.Port > 0)
            {
                kestrel.Listen(ParseAddress(http.BindAddress), http.Port, listen => listen.UseSocketTuning().UseMlpLossRecovery());
            }

            var management = context.Configuration.GetSection(ManagementOptions.SectionName).Get<ManagementOptions>() ?? new ManagementOptions();
            if (management.Port > 0)
            {
                // No connection governance: drains, caps and bans are for devices, and an operator must reach a draining node.
                kestrel.Listen(ParseAddress(management.BindAddress), management.Port);
            }

            TlsListeners.Configure(kestrel, context.Configuration, ParseAddress(mqtt.BindAddress), ParseAddress(http.BindAddress), epollTls: engine == TransportEngine.Epoll);
            TrafficExtensions.ListenForForwards(kestrel, context.Configuration, ParseAddress(http.BindAddress));
        });

        var app = builder.Build();

        _ = app.Services.GetRequiredService<GatewayMetrics>();

        // Before anything runs: peers' calls into this node need its protocols.
        app.Services.GetRequiredService<IFleet>().Attach(app.Services.GetRequiredService<GatewayFleetMember>());

        var managementApi = app.MapManagementSurface();
        managementApi.MapFleetApi();
        app.MapDashboard(managementApi);
        var device = app.MapGroup(string.Empty).OnSurface(HttpSurface.Device);
        app.MapMlp(device, managementApi);
        app.MapTraffic(device, managementApi);
        app.MapGatewayGovernance(device, managementApi);
        return app;
    }

    internal static IPAddress ParseAddress(string address) => address switch
    {
        "*" or "0.0.0.0" or "" => IPAddress.Any,
        "::" or "[::]" => IPAddress.IPv6Any,
        "localhost" => IPAddress.Loopback,
        _ => IPAddress.Parse(address),
    };
}
