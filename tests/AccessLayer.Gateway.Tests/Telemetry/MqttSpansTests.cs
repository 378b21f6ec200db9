using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Tests.Broker;
using AccessLayer.Gateway.Tests.Fleet.Infrastructure;
using AccessLayer.Protocol.Mqtt;
using AccessLayer.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;

namespace AccessLayer.Gateway.Tests.Telemetry;

/// <summary>Spans per connection event (CONNECT, takeover, drain), exported by OTLP to a real receiver; none per message.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class MqttSpansTests
{
    private static readonly TimeSpan ExportWait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Connect_takeover_and_drain_are_spans_and_messages_are_not()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(
            $"--Otlp:Endpoint={receiver.Endpoint}", "--Otlp:Protocol=http/protobuf", "--Otlp:TraceSampleRatio=1");
        await using var first = await gateway.ConnectClientAsync();
        await first.ConnectAsync("traced-client");
        await first.SubscribeAsync("t", MqttQualityOfService.AtMostOnce);
        for (var i = 0; i < 20; i++)
            await first.PublishAsync("t", "x");
        for (var i = 0; i < 20; i++)
            await first.ReceivePublishAsync();
        await using var second = await gateway.ConnectClientAsync();
        await second.ConnectAsync("traced-client", cleanStart: false);
        await using var refused = await gateway.ConnectClientAsync();
        await refused.ConnectAsync(new MqttConnectPacket { ClientId = new string('x', 300), ProtocolVersion = MqttProtocolVersion.V500, CleanStart = true });
        var drain = gateway.Services.GetRequiredService<DrainCoordinator>();
        Assert.True(drain.Start("test"));
        await drain.Completion.WaitAsync(ExportWait);

        var takeover = await receiver.WaitForSpanAsync(s => s.Name == "mqtt.takeover" && s.Attributes.GetValueOrDefault("mqtt.client_id") == "traced-client", ExportWait);
        var connect = await receiver.WaitForSpanAsync(s => s.SpanId == takeover.ParentSpanId, ExportWait);
        Assert.Equal("mqtt.connect", connect.Name);
        Assert.Equal("traced-client", connect.Attributes["mqtt.client_id"]);
        Assert.Equal("5.0", connect.Attributes["mqtt.protocol_version"]);
        var rejected = await receiver.WaitForSpanAsync(s => s.Name == "mqtt.connect" && s.Attributes.ContainsKey("mqtt.connect.reason_code"), ExportWait);
        Assert.Equal(((int)MqttReasonCode.ClientIdentifierNotValid).ToString(System.Globalization.CultureInfo.InvariantCulture), rejected.Attributes["mqtt.connect.reason_code"]);
        var drained = await receiver.WaitForSpanAsync(s => s.Name == "gateway.drain", ExportWait);
        Assert.Equal("drained", drained.Attributes["drain.outcome"]);
        Assert.Equal("test", drained.Attributes["drain.reason"]);
        // Two CONNECTs, one refusal, one takeover, one drain: the forty PUBLISH deliveries made none.
        Assert.Equal(3, receiver.Spans.Count(s => s.Name == "mqtt.connect"));
        Assert.DoesNotContain(receiver.Spans, s => s.Name.Contains("publish", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_takeover_across_nodes_is_a_claim_under_the_CONNECT_on_one_node_and_a_handover_on_the_other()
    {
        // Real fleet nodes (child processes, Redis), both exporting to one receiver.
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var cluster = await FleetCluster.StartAsync(2, [$"--Otlp:Endpoint={receiver.Endpoint}", "--Otlp:Protocol=http/protobuf", "--Otlp:TraceSampleRatio=1"]);
        await cluster.WaitForMembersAsync(2, TimeSpan.FromSeconds(60));
        await using var first = await RawMqttClient.OpenAsync(cluster.Nodes[0].MqttPort);
        await first.ConnectAsync("roaming", cleanStart: false, sessionExpiry: 300);
        await using var second = await RawMqttClient.OpenAsync(cluster.Nodes[1].MqttPort);
        await second.ConnectAsync("roaming", cleanStart: false, sessionExpiry: 300);

        var claim = await receiver.WaitForSpanAsync(s => s.Name == "fleet.session.claim" && s.Attributes.ContainsKey("fleet.previous_node"), ExportWait);
        Assert.Equal("roaming", claim.Attributes["mqtt.client_id"]);
        var connect = await receiver.WaitForSpanAsync(s => s.SpanId == claim.ParentSpanId, ExportWait);
        Assert.Equal("mqtt.connect", connect.Name);
        var handover = await receiver.WaitForSpanAsync(s => s.Name == "fleet.session.handover" && s.Attributes.GetValueOrDefault("mqtt.client_id") == "roaming", ExportWait);
        var takeover = await receiver.WaitForSpanAsync(s => s.Name == "mqtt.takeover" && s.ParentSpanId == handover.SpanId, ExportWait);
        Assert.Equal("another_node", takeover.Attributes["mqtt.takeover.by"]);
    }
}
