using System.Diagnostics;
using AccessLayer.Gateway.Telemetry;
using AccessLayer.Protocol.Mqtt;
using AccessLayer.SessionGrains.Fleet;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>
/// The broker's spans: per connection event, never per message. CONNECT (its fleet claim a child span), a
/// session handed over to another node. Null when nobody listens or the trace is not sampled.
/// </summary>
internal static class MqttSpans
{
    public const string Connect = "mqtt.connect";
    public const string FleetClaim = "fleet.session.claim";
    public const string Handover = "fleet.session.handover";

    public static Activity? StartConnect(MqttConnection connection, MqttConnectPacket connect)
    {
        var span = GatewayTelemetry.Source.StartActivity(Connect, ActivityKind.Server);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("mqtt.client_id", connect.ClientId);
            span.SetTag("mqtt.protocol_version", connect.ProtocolVersion == MqttProtocolVersion.V500 ? "5.0" : "3.1.1");
            span.SetTag("mqtt.clean_start", connect.CleanStart);
            span.SetTag("network.peer.address", connection.RemoteEndPoint?.ToString());
        }

        return span;
    }

    /// <summary>Ends the CONNECT span: accepted (with the client id the session got) or refused (its reason code tagged by <see cref="Refused"/>).</summary>
    public static void EndConnect(Activity? span, MqttConnection connection, bool accepted)
    {
        if (span is null)
            return;
        if (accepted)
            span.SetTag("mqtt.client_id", connection.ClientId);
        else
            span.SetStatus(ActivityStatusCode.Error, "CONNECT refused");
        span.Dispose();
    }

    /// <summary>The reason a CONNECT was refused, on the current CONNECT span.</summary>
    public static void Refused(MqttReasonCode reasonCode) => GatewayTelemetry.TagCurrent("mqtt.connect.reason_code", (int)reasonCode);

    public const string Takeover = "mqtt.takeover";

    /// <summary>A span for taking a live connection's session over (the old connection told 0x8E and closed), under the CONNECT or handover span.</summary>
    public static Activity? StartTakeover(string clientId, string how)
    {
        var span = GatewayTelemetry.Source.StartActivity(Takeover);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("mqtt.client_id", clientId);
            span.SetTag("mqtt.takeover.by", how);
        }

        return span;
    }

    public static Activity? StartFleetClaim(string clientId)
    {
        var span = GatewayTelemetry.Source.StartActivity(FleetClaim, ActivityKind.Client);
        span?.SetTag("mqtt.client_id", clientId);
        return span;
    }

    /// <summary>Ends the claim span: the epoch won and the node that held the session before, or the failure (null claim).</summary>
    public static void EndFleetClaim(Activity? span, SessionClaim? claim)
    {
        if (span is null)
            return;
        if (claim is null)
        {
            span.SetStatus(ActivityStatusCode.Error, "claim failed");
        }
        else if (span.IsAllDataRequested)
        {
            span.SetTag("fleet.epoch", claim.Epoch);
            span.SetTag("fleet.previous_node", claim.PreviousNode);
            span.SetTag("fleet.owned_by_another_identity", claim.OwnedByAnotherIdentity);
        }

        span.Dispose();
    }

    public static Activity? StartHandover(string clientId)
    {
        var span = GatewayTelemetry.Source.StartActivity(Handover, ActivityKind.Server);
        span?.SetTag("mqtt.client_id", clientId);
        return span;
    }
}
