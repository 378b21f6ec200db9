using AccessLayer.Gateway.Admin;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Transport;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Governance;

internal static class GovernanceApplicationExtensions
{
    /// <summary>The HTTP side of governance: MQTT over WebSocket on <c>Http:WebSocketPath</c> and the admin API.</summary>
    public static WebApplication MapGatewayGovernance(this WebApplication app)
    {
        var http = app.Services.GetRequiredService<IOptions<HttpOptions>>().Value;
        if (!string.IsNullOrEmpty(http.WebSocketPath))
        {
            app.UseWebSockets();
            app.MapMqttWebSockets(http.WebSocketPath);
        }

        app.MapAdminApi();
        return app;
    }
}
