using System.Net;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Mqtt;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace AccessLayer.Gateway.Transport;

/// <summary>
/// MQTT over WebSocket (and secure WebSocket on the HTTPS port): the upgrade is admitted by the
/// same <see cref="ConnectionGovernor"/> as TCP, the <c>mqtt</c> subprotocol is selected
/// (MQTT 5.0 6.0), and the socket is handed to the ordinary <see cref="MqttConnectionHandler"/>.
/// </summary>
internal static class MqttWebSocketEndpoint
{
    private static readonly string[] SubProtocols = ["mqtt", "mqttv3.1"];

    public static void MapMqttWebSockets(this IEndpointRouteBuilder app, string path)
    {
        app.Map(path, HandleAsync);
    }

    private static async Task HandleAsync(HttpContext context, ConnectionGovernor governor, MqttConnectionHandler handler, TimeProvider time)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("MQTT over WebSocket: send a WebSocket upgrade with subprotocol 'mqtt'.").ConfigureAwait(false);
            return;
        }

        var listener = context.Request.IsHttps ? ListenerNames.SecureWebSocket : ListenerNames.WebSocket;
        var remote = context.Connection.RemoteIpAddress is { } address ? new IPEndPoint(address, context.Connection.RemotePort) : null;
        if (governor.TryAdmit(listener, remote) != Admission.Admitted)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        try
        {
            // Clients that name no subprotocol are still served (some embedded stacks omit it).
            string? subProtocol = null;
            foreach (var offered in context.WebSockets.WebSocketRequestedProtocols)
            {
                if (Array.IndexOf(SubProtocols, offered) >= 0)
                {
                    subProtocol = offered;
                    break;
                }
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { SubProtocol = subProtocol }).ConfigureAwait(false);
            var features = new FeatureCollection();
            features.Set<IListenerFeature>(new ListenerFeature(listener));
            if (context.Features.Get<ITlsConnectionFeature>() is { } tls)
            {
                features.Set(tls);
            }

            if (context.Features.Get<IConnectionSocketFeature>() is { } socketFeature)
            {
                features.Set(socketFeature);
            }

            var local = context.Connection.LocalIpAddress is { } localAddress ? new IPEndPoint(localAddress, context.Connection.LocalPort) : null;
            var connection = new WebSocketConnectionContext(socket, context.Connection.Id, local, remote, features, time);
            await connection.RunAsync(handler.OnConnectedAsync).ConfigureAwait(false);
        }
        finally
        {
            governor.Release(listener);
        }
    }
}
