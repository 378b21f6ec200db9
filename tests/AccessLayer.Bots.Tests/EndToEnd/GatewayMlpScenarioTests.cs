using AccessLayer.Bots.Cli;

namespace AccessLayer.Bots.Tests.EndToEnd;

/// <summary>Small real MLP runs against a real gateway: every call answered and echoed, every push delivered and acknowledged.</summary>
public sealed class GatewayMlpScenarioTests : IClassFixture<GatewayFixture>
{
    private readonly GatewayProcess _gateway;

    public GatewayMlpScenarioTests(GatewayFixture fixture)
    {
        _gateway = fixture.Gateway;
    }

    [Fact]
    public async Task Mlp_rpc_answers_every_call_with_the_echo_and_records_every_latency()
    {
        var options = new BotOptions
        {
            Scenario = ScenarioKind.MlpRpc,
            Port = _gateway.MlpPort,
            Count = 2,
            Concurrency = 4,
            Messages = 100,
            PayloadSize = 128,
            Duration = TimeSpan.FromSeconds(5),
            Warmup = TimeSpan.Zero,
            Quiet = true,
        };
        var report = await BotRunner.RunAsync(options, TimeProvider.System, CancellationToken.None);

        Assert.Empty(report.Errors);
        Assert.Equal(2, report.Connections.Established);
        Assert.Equal(200, report.Messages.Published);
        Assert.Equal(200, report.Messages.Received);
        Assert.Equal(200, report.Messages.Acked);
        Assert.Equal(200, report.Latency.Count);
        Assert.True(report.Latency.P50 > 0 && report.Latency.P50 <= report.Latency.P99 && report.Latency.P99 <= report.Latency.Max);
        Assert.NotNull(report.Mlp);
        Assert.True(report.Mlp.CallsPerSecond > 0);
        // A frame carries the 128-byte body plus a few bytes of frame and header block, never less.
        Assert.InRange(report.Mlp.BytesSentPerCall, 129, 400);
        Assert.InRange(report.Mlp.BytesReceivedPerCall, 129, 400);
    }

    [Fact]
    public async Task Mlp_push_to_all_delivers_each_push_to_every_device_and_the_gateway_counts_the_acks()
    {
        var options = new BotOptions
        {
            Scenario = ScenarioKind.MlpPush,
            Port = _gateway.MlpPort,
            Management = $"http://127.0.0.1:{_gateway.ManagementPort}/",
            ManagementToken = GatewayProcess.ManagementToken,
            Count = 4,
            Messages = 20,
            Rate = 100,
            PushTarget = MlpPushTarget.All,
            TokenSecret = GatewayProcess.TokenSecret,
            Duration = TimeSpan.FromSeconds(3),
            Warmup = TimeSpan.Zero,
            Drain = TimeSpan.FromSeconds(3),
            Quiet = true,
        };
        var report = await BotRunner.RunAsync(options, TimeProvider.System, CancellationToken.None);

        Assert.Empty(report.Errors);
        Assert.Equal(4, report.Connections.Established);
        Assert.Equal(20, report.Messages.Published);
        Assert.Equal(80, report.Messages.Expected);
        Assert.Equal(80, report.Messages.Received);
        Assert.Equal(0, report.Messages.Lost);
        Assert.Equal(80, report.Latency.Count);
        Assert.NotNull(report.Mlp);
        Assert.Equal(80, report.Mlp.PushOnline);
        Assert.Equal(80, report.Mlp.GatewayAcks);
    }
}
