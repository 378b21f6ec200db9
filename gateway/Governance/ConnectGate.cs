using AccessLayer.Gateway.Hosting;
using AccessLayer.Protocol.Mqtt;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Governance;

/// <summary>Why a CONNECT is refused before authentication: the reason code (mapped to a return code for 3.1.1), the metric label, and whether 3.1.1 gets no CONNACK at all.</summary>
internal readonly record struct ConnectRefusal(MqttReasonCode ReasonCode, string Reason, string MetricReason, bool CloseWithoutConnAckOn311 = false, string? ServerReference = null);

/// <summary>
/// Node-level checks at CONNECT, cheapest first: the drain (5.0: CONNACK 0x9C Use another
/// server, with the configured Server Reference), flapping bans (5.0: 0x8A Banned; 3.1.1 has no
/// such code, so the connection is just closed), and the memory watermark (5.0: 0x89 Server busy).
/// </summary>
internal sealed class ConnectGate(FlappingDetector flapping, MemoryWatermark memory, GatewayReadiness readiness, IOptions<DrainOptions> drain, IOptions<LimitsOptions> limits, ILogger<ConnectGate> logger)
{
    public ConnectRefusal? Check(string clientId)
    {
        if (!readiness.IsReady)
        {
            return new ConnectRefusal(MqttReasonCode.UseAnotherServer, "The node is draining; use another server.", "draining", ServerReference: drain.Value.ServerReference);
        }

        if (flapping.Record(clientId, out var newlyBanned) is { } remaining)
        {
            if (newlyBanned)
            {
                GovernanceLog.FlappingBanned(logger, clientId, limits.Value.FlappingMaxConnects + 1, limits.Value.FlappingWindow, limits.Value.FlappingBanDuration);
            }
            else
            {
                GovernanceLog.FlappingRefused(logger, clientId, remaining);
            }

            return new ConnectRefusal(MqttReasonCode.Banned, "Banned for flapping.", "banned", CloseWithoutConnAckOn311: true);
        }

        if (memory.IsOverloaded)
        {
            return new ConnectRefusal(MqttReasonCode.ServerBusy, "Server busy.", "server_busy");
        }

        return null;
    }
}
