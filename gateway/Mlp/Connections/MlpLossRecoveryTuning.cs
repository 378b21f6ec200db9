using System.Net.Sockets;
using AccessLayer.Gateway.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Mlp.Connections;

/// <summary>
/// Sets <c>Mlp:TcpRtoMin</c> and <c>Mlp:TcpThinLinearTimeouts</c> on every accepted socket of a listener that carries MLP
/// (docs/configuration.md), on the raw fd of the epoll engine or Kestrel's socket. Best effort: a kernel without the
/// options is logged once per process and left alone from then on; any other failure is logged once and ignored too.
/// </summary>
internal static class MlpLossRecoveryTuning
{
    private static int s_unsupported;
    private static int s_failedLogged;

    /// <summary>Adds the tuning to a listener's pipeline (after governance: refused peers cost nothing).</summary>
    public static TBuilder UseMlpLossRecovery<TBuilder>(this TBuilder listen)
        where TBuilder : IConnectionBuilder
    {
        var options = listen.ApplicationServices.GetRequiredService<IOptions<MlpOptions>>().Value;
        var logger = listen.ApplicationServices.GetRequiredService<ILogger<MlpGateway>>();
        if (options.TcpRtoMin <= TimeSpan.Zero && !options.TcpThinLinearTimeouts)
            return listen;
        listen.Use(next => connection =>
        {
            Tune(connection, options.TcpRtoMin, options.TcpThinLinearTimeouts, logger);
            return next(connection);
        });
        return listen;
    }

    /// <summary>True when the options were set; false when the kernel (or the transport) has no way to.</summary>
    public static bool Tune(ConnectionContext connection, TimeSpan rtoMin, bool thinLinearTimeouts, ILogger logger)
    {
        if (Volatile.Read(ref s_unsupported) != 0)
            return false;
        try
        {
            if (connection.Features.Get<IRawSocketOptionsFeature>() is { } raw)
                TcpLossRecovery.Apply(raw, rtoMin, thinLinearTimeouts);
            else if (connection.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
                TcpLossRecovery.Apply(socket, rtoMin, thinLinearTimeouts);
            else
                return false;
            return true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ProtocolOption)
        {
            if (Interlocked.Exchange(ref s_unsupported, 1) == 0)
                MlpLog.LossRecoveryUnsupported(logger, rtoMin, ex.Message);
            return false;
        }
        catch (SocketException ex)
        {
            if (Interlocked.Exchange(ref s_failedLogged, 1) == 0)
                MlpLog.LossRecoveryFailed(logger, rtoMin, ex.Message);
            return false;
        }
    }
}
