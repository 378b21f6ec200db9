using System.Net.Sockets;
using AccessLayer.Gateway.Transport;
using Microsoft.AspNetCore.Connections;
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
    /// Works on Kestrel's <see cref="ListenOptions"/> and on a bare <see cref="ConnectionBuilder"/>
    /// (the epoll engine's own pipeline).
    /// </summary>
    public static TBuilder UseConnectionGovernance<TBuilder>(this TBuilder listen, string listener)
        where TBuilder : IConnectionBuilder => listen.UseConnectionGovernance(listener, refuse: null);

    /// <summary>
    /// As above; <paramref name="refuse"/> may tell a refused peer why before its socket is closed (a
    /// protocol that lets the server speak first, like MLP's GOAWAY before WELCOME). It must be short and bounded.
    /// </summary>
    public static TBuilder UseConnectionGovernance<TBuilder>(this TBuilder listen, string listener, Func<ConnectionContext, Admission, Task>? refuse)
        where TBuilder : IConnectionBuilder
    {
        var services = listen.ApplicationServices;
        var governor = services.GetRequiredService<ConnectionGovernor>();
        var limits = services.GetRequiredService<IOptions<LimitsOptions>>().Value;
        var logger = services.GetRequiredService<ILogger<ConnectionGovernor>>();
        var admitted = new AdmittedListener(governor, listener);
        listen.Use(next => connection =>
        {
            var admission = governor.TryAdmit(listener, connection.RemoteEndPoint);
            if (admission != Admission.Admitted)
            {
                // Returning closes the socket; nothing was read, nothing is answered unless the protocol says why.
                return refuse is null ? Task.CompletedTask : refuse(connection, admission);
            }

            // Released when the connection completes. Through the transport's completion callback when
            // it has one: no async state machine kept alive per connection for a finally block.
            if (connection.Features.Get<IConnectionCompleteFeature>() is { } complete)
            {
                // Registered first: the callbacks run when the pipeline ends, however it ends.
                complete.OnCompleted(static state => ((AdmittedListener)state).Release(), admitted);
                Prepare(connection, admitted, limits, logger);
                return next(connection);
            }

            return RunAsync(next, connection, admitted, limits, logger);
        });
        return listen;
    }

    private static async Task RunAsync(ConnectionDelegate next, ConnectionContext connection, AdmittedListener admitted, LimitsOptions limits, ILogger logger)
    {
        try
        {
            Prepare(connection, admitted, limits, logger);
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            await admitted.Release().ConfigureAwait(false);
        }
    }

    private static void Prepare(ConnectionContext connection, AdmittedListener admitted, LimitsOptions limits, ILogger logger)
    {
        connection.Features.Set<IListenerFeature>(admitted.Feature);
        Tune(connection, limits, logger, admitted.Feature.Listener);
    }

    /// <summary>Applies keepalive/user-timeout/send-buffer tuning to whatever the transport exposes (a raw fd first: it costs no Socket object).</summary>
    private static void Tune(ConnectionContext connection, LimitsOptions limits, ILogger logger, string listener)
    {
        try
        {
            if (connection.Features.Get<IRawSocketOptionsFeature>() is { } raw)
            {
                SocketTuning.Apply(raw, limits);
            }
            else if (connection.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
            {
                SocketTuning.Apply(socket, limits);
            }
        }
        catch (SocketException ex)
        {
            GovernanceLog.SocketOptionsFailed(logger, listener, ex.Message);
        }
    }

    /// <summary>One per listener: the feature every connection gets and the release callback, so neither is allocated per connection.</summary>
    private sealed class AdmittedListener(ConnectionGovernor governor, string listener)
    {
        public ListenerFeature Feature { get; } = new(listener);

        public Task Release()
        {
            governor.Release(listener);
            return Task.CompletedTask;
        }
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
            Tune(connection, limits, logger, "http");
            return next(connection);
        });
        return listen;
    }
}
