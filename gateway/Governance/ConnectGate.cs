using System.Net;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Protocol.Mqtt;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Governance;

/// <summary>Why a CONNECT is refused by governance: the reason code (mapped to a return code for 3.1.1), the metric label, and whether 3.1.1 gets no CONNACK at all.</summary>
internal readonly record struct ConnectRefusal(MqttReasonCode ReasonCode, string Reason, string MetricReason, bool CloseWithoutConnAckOn311 = false, string? ServerReference = null);

/// <summary>
/// Node-level checks at CONNECT. Before authentication, cheapest first: the drain (5.0: CONNACK
/// 0x9C Use another server, with the configured Server Reference), a flapping ban already running
/// for this client id and address (5.0: 0x8A Banned; 3.1.1 has no such code, so the connection is
/// just closed), and the memory watermark (5.0: 0x89 Server busy). After authentication the CONNECT
/// is counted for flapping (<see cref="RecordAuthenticated"/>): a refused or unauthenticated CONNECT
/// never counts, so it cannot get anyone banned.
/// </summary>
internal sealed class ConnectGate(FlappingDetector flapping, MemoryWatermark memory, GatewayReadiness readiness, IOptions<DrainOptions> drain, IOptions<LimitsOptions> limits, ILogger<ConnectGate> logger)
{
    private static readonly ConnectRefusal Banned = new(MqttReasonCode.Banned, "Banned for flapping.", "banned", CloseWithoutConnAckOn311: true);

    public ConnectRefusal? Check(string clientId, EndPoint? remote)
    {
        if (!readiness.IsReady)
        {
            return new ConnectRefusal(MqttReasonCode.UseAnotherServer, "The node is draining; use another server.", "draining", ServerReference: drain.Value.ServerReference);
        }

        if (flapping.IsEnabled && flapping.BannedFor(clientId, AddressOf(remote)) is { } remaining)
        {
            GovernanceLog.FlappingRefused(logger, clientId, remaining);
            return Banned;
        }

        if (memory.IsOverloaded)
        {
            return new ConnectRefusal(MqttReasonCode.ServerBusy, "Server busy.", "server_busy");
        }

        return null;
    }

    /// <summary>Counts a CONNECT that passed authentication; a refusal when it makes (or finds) the client banned.</summary>
    public ConnectRefusal? RecordAuthenticated(string clientId, EndPoint? remote)
    {
        if (!flapping.IsEnabled || flapping.Record(clientId, AddressOf(remote), out var newlyBanned) is not { } remaining)
        {
            return null;
        }

        if (newlyBanned)
        {
            GovernanceLog.FlappingBanned(logger, clientId, limits.Value.FlappingMaxConnects + 1, limits.Value.FlappingWindow, limits.Value.FlappingBanDuration);
        }
        else
        {
            GovernanceLog.FlappingRefused(logger, clientId, remaining);
        }

        return Banned;
    }

    /// <summary>The source address without the port (a reconnect comes from a new port); empty when the transport has none.</summary>
    private static string AddressOf(EndPoint? remote) => remote switch
    {
        IPEndPoint ip => (ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address).ToString(),
        null => string.Empty,
        _ => remote.ToString() ?? string.Empty,
    };
}
