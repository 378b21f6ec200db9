using AccessLayer.Bots.Cli;
using AccessLayer.Bots.Scenarios;
using AccessLayer.Bots.Tests.EndToEnd;
using Microsoft.Extensions.Time.Testing;

namespace AccessLayer.Bots.Tests.Scenarios;

/// <summary>mlp-rpc --mlp-client lean end to end: bounded by count, bounded by duration on the run's clock.</summary>
public sealed class MlpLeanRpcScenarioTests : IAsyncLifetime
{
    private InProcessGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await InProcessGateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private BotOptions Options(long messages, double durationSeconds) => new()
    {
        Scenario = ScenarioKind.MlpRpc,
        MlpClient = MlpClientKind.Lean,
        Port = _gateway.MlpPort,
        Count = 3,
        Concurrency = 8,
        Messages = messages,
        PayloadSize = 100,
        Duration = TimeSpan.FromSeconds(durationSeconds),
        Warmup = TimeSpan.Zero,
        Quiet = true,
    };

    [Fact]
    public async Task Run_bounded_by_count_sends_and_answers_exactly_the_budget_of_every_connection()
    {
        var report = await MlpLeanRpcScenario.RunAsync(new ScenarioRun(Options(messages: 400, durationSeconds: 60), TimeProvider.System), CancellationToken.None);

        Assert.Empty(report.Errors);
        Assert.Equal(3, report.Connections.Established);
        Assert.Equal(1200, report.Messages.Published);
        Assert.Equal(1200, report.Messages.Received);
        Assert.Equal(0, report.Messages.Lost);
        Assert.Equal(1200, report.Latency.Count);
        Assert.NotNull(report.Mlp);
        Assert.Equal("lean", report.Mlp.Client);
        Assert.Equal(8, report.Mlp.PeakInFlight);
        Assert.True(report.Mlp.CallsPerSecond > 0);
    }

    [Fact]
    public async Task Run_bounded_by_duration_stops_sending_when_the_clock_says_so_and_drains_what_is_in_flight()
    {
        var time = new FakeTimeProvider();
        var run = new ScenarioRun(Options(messages: 0, durationSeconds: 10), time);
        var scenario = MlpLeanRpcScenario.RunAsync(run, CancellationToken.None);
        while (run.Stats.ReceivedAll < 500 && !scenario.IsCompleted)
        {
            await Task.Yield();
        }

        Assert.False(scenario.IsCompleted, "an unbounded run goes on until its duration has passed");
        time.Advance(TimeSpan.FromSeconds(10));
        var report = await scenario.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Empty(report.Errors);
        Assert.True(report.Messages.Received >= 500);
        Assert.Equal(report.Messages.Published, report.Messages.Received);
        Assert.Equal(run.Stats.PublishedAll, run.Stats.ReceivedAll);
    }
}
