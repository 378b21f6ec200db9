using AccessLayer.Gateway.Tests.Broker;
using AccessLayer.Protocol.Mqtt;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Gateway.Tests.Telemetry;

/// <summary>The gateway's instruments through the OpenTelemetry SDK: served on <c>/metrics</c>, pushed by OTLP to a real receiver.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class TelemetryExtensionsTests
{
    private static readonly TimeSpan ExportWait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Figures_of_real_MQTT_traffic_are_served_on_metrics_and_pushed_by_OTLP()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(
            $"--Otlp:Endpoint={receiver.Endpoint}", "--Otlp:Protocol=http/protobuf", "--Otlp:MetricExportInterval=00:00:00.5");
        await using var client = await gateway.ConnectClientAsync();
        await client.ConnectAsync("otlp-metered");
        await client.SubscribeAsync("m", MqttQualityOfService.AtMostOnce);
        await client.PublishAsync("m", "x");
        await client.ReceivePublishAsync();

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{gateway.ManagementPort}") };
        var page = await http.GetStringAsync("/metrics");
        Assert.Equal(1, PrometheusText.Value(page, "accesslayer_mqtt_connections"));
        Assert.Equal(1, PrometheusText.Value(page, "accesslayer_mqtt_connections_accepted_total"));
        Assert.Equal(1, PrometheusText.Value(page, "accesslayer_mqtt_messages_received_total"));
        Assert.Equal(1, PrometheusText.Value(page, "accesslayer_mqtt_messages_sent_total"));
        Assert.True(PrometheusText.Value(page, "accesslayer_mqtt_bytes_received_bytes_total") > 0);
        Assert.True(PrometheusText.Declares(page, "accesslayer_gateway_connections"));

        // The same instruments, under the same names, reach the collector.
        await receiver.WaitForMetricAsync("accesslayer.mqtt.messages.received", ExportWait);
        await receiver.WaitForMetricAsync("accesslayer.mqtt.connections", ExportWait);
        await receiver.WaitForMetricAsync("accesslayer.gateway.connections", ExportWait);
    }

    [Fact]
    public async Task Each_gateway_in_a_process_serves_only_its_own_figures()
    {
        // Two hosts, one meter name: the SDK listens to the meters of its own host's factory only.
        await using var first = await InProcessGateway.StartAsync();
        await using var second = await InProcessGateway.StartAsync();
        await using var a1 = await first.ConnectClientAsync();
        await a1.ConnectAsync("host-a-1");
        await using var a2 = await first.ConnectClientAsync();
        await a2.ConnectAsync("host-a-2");
        await using var b1 = await second.ConnectClientAsync();
        await b1.ConnectAsync("host-b-1");

        Assert.Equal(2, await ConnectionsAsync(first));
        Assert.Equal(1, await ConnectionsAsync(second));
    }

    private static async Task<double> ConnectionsAsync(InProcessGateway gateway)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{gateway.ManagementPort}") };
        var page = await http.GetStringAsync("/metrics");
        Assert.Equal(1, page.Split('\n').Count(l => l.StartsWith("# TYPE accesslayer_mqtt_connections ", StringComparison.Ordinal)));
        return PrometheusText.Value(page, "accesslayer_mqtt_connections");
    }
}
