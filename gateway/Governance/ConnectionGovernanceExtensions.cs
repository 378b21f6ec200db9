using System.Net.Sockets;
using AccessLayer.Gateway.Transport;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Governance;

internal static class ConnectionGovernanceExtensions
{
    /// <summary>
    /// Puts a listener under connection governance: admission (caps, connect rate, drain) and
    /// socket tuning run first, before TLS or any protocol byte, and the connection is named by
    /// <paramref name="listener"/>. Add it before <c>UseHttps</c> so refused peers cost no handshake.
    /// </summary>
    public static ListenOptions UseConnectionGovernance(this ListenOptions listen, string listener)
    {
        var services = listen.ApplicationServices;
        var governor = services.GetRequiredService<ConnectionGovernor>();
        var limits = services.GetRequiredService<IOptions<LimitsOptions>>().Value;
        var logger = services.GetRequiredService<ILogger<ConnectionGovernor>>();
        var feature = new ListenerFeature(listener);
        listen.Use(next => async connection =>
        {
            if (governor.TryAdmit(listener, connection.RemoteEndPoint) != Admission.Admitted)
            {
                // Returning closes the socket; nothing was read, nothing is answered.
                return;
            }

            try
            {
                connection.Features.Set<IListenerFeature>(feature);
                if (connection.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
                {
                    try
                    {
                        SocketTuning.Apply(socket, limits);
                    }
                    catch (SocketException ex)
                    {
                        GovernanceLog.SocketOptionsFailed(logger, listener, ex.Message);
                    }
                }

                await next(connection).ConfigureAwait(false);
            }
            finally
            {
                governor.Release(listener);
            }
        });
        return listen;
    }

    /// <summary>
    /// Socket tuning alone (keepalive, TCP_USER_TIMEOUT, send buffer) for the HTTP listeners:
    /// their connections may become WebSocket clients, which are admitted at the upgrade.
    /// </summary>
    public static ListenOptions UseSocketTuning(this ListenOptions listen)
    {
        var services = listen.ApplicationServices;
        var limits = services.GetRequiredService<IOptions<LimitsOptions>>().Value;
        var logger = services.GetRequiredService<ILogger<ConnectionGovernor>>();
        listen.Use(next => connection =>
        {
            if (connection.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
            {
                try
                {
                    SocketTuning.Apply(socket, limits);
                }
                catch (SocketException ex)
                {
                    GovernanceLog.SocketOptionsFailed(logger, "http", ex.Message);
                }
            }

            return next(connection);
        });
        return listen;
    }
}
