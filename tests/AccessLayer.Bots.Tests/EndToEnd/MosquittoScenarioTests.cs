using AccessLayer.Bots.Cli;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Bots.Tests.EndToEnd;

/// <summary>Small real runs against a real mosquitto: every message arrives, latencies are recorded, nothing errs.</summary>
public sealed class MosquittoScenarioTests : IClassFixture<MosquittoFixture>
{
    private readonly MosquittoBroker _broker;

    public MosquittoScenarioTests(MosquittoFixture fixture)
    {
        _broker = fixture.Broker;
    }

    private BotOptions Options(ScenarioKind kind) => new()
    {
        Scenario = kind,
        Port = _broker.Port,
        Duration = TimeSpan.FromSeconds(5),
        Warmup = TimeSpan.Zero,
        Drain = TimeSpan.FromSeconds(3),
        Quiet = true,
    };

    [Fact]
    public async Task P2p_qos1_delivers_every_message_and_records_every_latency()
    {
        var options = Options(ScenarioKind.P2p) with { Count = 4, Qos = MqttQualityOfService.AtLeastOnce, Messages = 50, Rate = 500 };
        var report = await BotRunner.RunAsync(options, TimeProvider.System, CancellationToken.None);

        Assert.Equal(8, report.Connections.Established);
        Assert.Equal(200, report.Messages.Published);
        Assert.Equal(200, report.Messages.Expected);
        Assert.Equal(200, report.Messages.Received);
        Assert.Equal(200, report.Messages.Acked);
        Assert.Equal(0, report.Messages.Lost);
        Assert.Equal(200, report.Latency.Count);
        Assert.InRange(report.Latency.P50, 1, 5_000_000);
        Assert.True(report.Latency.P50 <= report.Latency.P99 && report.Latency.P99 <= report.Latency.Max);
        Assert.Empty(report.Errors);
    }

    [Fact]
    public async Task Fan_out_qos2_on_mqtt5_completes_the_four_way_handshake_for_every_copy()
    {
        var options = Options(ScenarioKind.FanOut) with { Count = 3, Qos = MqttQualityOfService.ExactlyOnce, Version = MqttProtocolVersion.V500, Messages = 20, Rate = 200 };
        var report = await BotRunner.RunAsync(options, TimeProvider.System, CancellationToken.None);

        Assert.Equal(20, report.Messages.Published);
        Assert.Equal(60, report.Messages.Received);
        Assert.Equal(20, report.Messages.Acked);
        Assert.Equal(0, report.Messages.Lost);
        Assert.Empty(report.Errors);
    }

    [Fact]
    public async Task Conn_opens_holds_and_closes_and_reports_broker_memory()
    {
        var options = Options(ScenarioKind.Conn) with { Count = 50, Hold = TimeSpan.FromMilliseconds(300), SourceAddresses = 2, BrokerPid = _broker.ProcessId };
        var report = await BotRunner.RunAsync(options, TimeProvider.System, CancellationToken.None);

        Assert.Equal(50, report.Connections.Established);
        Assert.Equal(0, report.Connections.Failed);
        Assert.Equal(50, report.Connections.ConnectLatency.Count);
        Assert.NotNull(report.BrokerMemory);
        Assert.Equal(50, report.BrokerMemory!.Connections);
        Assert.Empty(report.Errors);
    }

    [Fact]
    public async Task A_closed_port_counts_connect_errors_by_kind()
    {
        var options = Options(ScenarioKind.Conn) with { Port = ClosedPort(), Count = 3, Hold = TimeSpan.Zero };
        var report = await BotRunner.RunAsync(options, TimeProvider.System, CancellationToken.None);

        Assert.Equal(0, report.Connections.Established);
        Assert.Equal(3, report.Connections.Failed);
        Assert.Equal(3, report.Errors["socket_ConnectionRefused"]);
    }

    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public sealed class MosquittoFixture : IDisposable
{
    public MosquittoBroker Broker { get; } = new();

    public void Dispose() => Broker.Dispose();
}
