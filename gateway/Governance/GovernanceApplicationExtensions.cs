using AccessLayer.Gateway.Admin;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Transport;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Governance;

internal static class GovernanceApplicationExtensions
{
    /// <summary>The HTTP side of governance: MQTT over WebSocket on <c>Http:WebSocketPath</c> (device surface) and the admin API (management surface).</summary>
    public static WebApplication MapGatewayGovernance(this WebApplication app, IEndpointRouteBuilder device, IEndpointRouteBuilder managementApi)
    {
        var http = app.Services.GetRequiredService<IOptions<HttpOptions>>().Value;
        if (!string.IsNullOrEmpty(http.WebSocketPath))
        {
            app.UseWebSockets();
            device.MapMqttWebSockets(http.WebSocketPath);
        }

        managementApi.MapAdminApi();
        return app;
    }
}
