using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Traffic;

/// <summary>Wires the traffic table: its options, the store, the file watcher, the metrics, the MQTT uplinks and the operator API.</summary>
internal static class TrafficExtensions
{
    public static IServiceCollection AddTraffic(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TrafficOptions>().Bind(configuration.GetSection(TrafficOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<TrafficOptions>, TrafficOptionsValidator>();
        services.AddSingleton<TrafficMetrics>();
        services.AddSingleton<TrafficTableStore>();
        services.AddSingleton<TrafficKeys>();
        services.AddSingleton<TrafficForwarder>();
        services.AddSingleton<TrafficLinkServer>();
        services.AddSingleton<TrafficRouter>();
        services.AddSingleton<TrafficEndpointHealth>();
        services.AddSingleton<TrafficHealthChecker>();
        services.AddHostedService(sp => sp.GetRequiredService<TrafficHealthChecker>());
        services.AddSingleton<TrafficUplinkSender>();
        services.AddSingleton<TrafficUplinks>();
        services.AddSingleton<AccessLayer.Gateway.Mqtt.IMqttUplink>(sp => sp.GetRequiredService<TrafficUplinks>());
        services.AddHostedService(sp => sp.GetRequiredService<TrafficUplinks>());
        services.AddSingleton<TrafficFileWatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<TrafficFileWatcher>());
        return services;
    }

    /// <summary>The listener of <c>Traffic:ForwardPort</c>, when set, for other sites' gateways: site links (<see cref="TrafficLinkServer"/>) and the device surface over HTTP/2 with prior knowledge.</summary>
    public static void ListenForForwards(KestrelServerOptions kestrel, IConfiguration configuration, System.Net.IPAddress address)
    {
        var port = configuration.GetSection(TrafficOptions.SectionName).GetValue<int>(nameof(TrafficOptions.ForwardPort));
        if (port > 0)
        {
            kestrel.Listen(address, port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.Use(next => connection => listen.ApplicationServices.GetRequiredService<TrafficLinkServer>().OnConnectionAsync(connection, next));
            });
        }
    }

    /// <param name="device">The device surface: where other sites' gateways forward calls (<c>POST /traffic/v1/forward/{service}/{operation}</c>).</param>
    /// <param name="managementApi">The management surface's <c>/api/v1</c> group.</param>
    public static void MapTraffic(this WebApplication app, IEndpointRouteBuilder device, IEndpointRouteBuilder managementApi)
    {
        _ = app.Services.GetRequiredService<TrafficMetrics>();
        device.MapPost("/traffic/v1/forward/{service}/{operation}", TrafficForwardEndpoint.HandleAsync);
        device.MapPost("/traffic/v1/uplink/{rule}/{zone}/{group}", TrafficUplinkEndpoint.HandleAsync);
        managementApi.MapTrafficApi();
    }
}
