using System.Diagnostics.Metrics;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AccessLayer.Gateway.Tests.Governance;

public sealed class DrainCoordinatorTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly GatewayReadiness _readiness = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    private DrainCoordinator Create(int rate, params IDrainParticipant[] participants) =>
        new(participants, _readiness, Options.Create(new DrainOptions { Rate = rate, ServerReference = "elsewhere" }), _time,
            new GatewayMetrics(_services.GetRequiredService<IMeterFactory>()), NullLogger<DrainCoordinator>.Instance);

    [Fact]
    public async Task The_rate_is_shared_across_participants_one_batch_per_tick()
    {
        var mqtt = new FakeParticipant("mqtt", 5);
        var mlp = new FakeParticipant("mlp", 4);
        using var drain = Create(30, mqtt, mlp);

        Assert.True(drain.Start("test"));
        Assert.False(_readiness.IsReady);
        await WaitForAsync(() => drain.Status.Moved == 3);
        Assert.Equal((3, 0), (mqtt.Moved, mlp.Moved));

        await TickAsync(drain, 6);
        Assert.Equal((5, 1), (mqtt.Moved, mlp.Moved));
        await TickAsync(drain, 9);
        Assert.Equal((5, 4), (mqtt.Moved, mlp.Moved));
        Assert.Equal("elsewhere", mqtt.LastContext?.ServerReference);

        // The last batch was exactly full, but nobody is left: the drain ends without another tick.
        await drain.Completion.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(DrainState.Drained, drain.Status.State);
        Assert.False(_readiness.IsReady);
    }

    [Fact]
    public async Task Cancel_stops_moving_and_makes_the_node_ready_again()
    {
        var mqtt = new FakeParticipant("mqtt", 100);
        using var drain = Create(10, mqtt);
        drain.Start("test");
        await WaitForAsync(() => mqtt.Moved == 1);
        Assert.False(drain.Start("again"));

        Assert.True(drain.Cancel());
        Assert.True(_readiness.IsReady);
        Assert.Equal(DrainState.Idle, drain.Status.State);
        _time.Advance(TimeSpan.FromSeconds(5));
        await drain.Completion.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, mqtt.Moved);
        Assert.False(drain.Cancel());
    }

    [Fact]
    public async Task A_drain_with_nobody_connected_finishes_at_once()
    {
        using var drain = Create(500, new FakeParticipant("mqtt", 0));
        drain.Start("test");
        await drain.Completion.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(DrainState.Drained, drain.Status.State);
    }

    [Fact]
    public async Task A_participant_that_throws_is_reported_and_the_drain_still_finishes_for_the_others()
    {
        using var failures = new Infrastructure.LoopFailureCounter();
        var broken = new FakeParticipant("broken", 10, throwsAfter: 2);
        var mlp = new FakeParticipant("mlp", 4);
        using var drain = Create(30, broken, mlp);

        Assert.True(drain.Start("test"));
        for (var i = 0; i < 200 && !drain.Completion.IsCompleted; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(5);
        }

        await drain.Completion.WaitAsync(TimeSpan.FromSeconds(5));

        // Not stuck draining: the others were all moved and the status names the one that failed.
        var status = drain.Status;
        Assert.Equal(DrainState.Drained, status.State);
        Assert.Equal(["broken"], status.Failed);
        Assert.Equal(4, mlp.Moved);
        Assert.Equal(1, failures["drain"]);
    }

    private async Task TickAsync(DrainCoordinator drain, long expectedMoved)
    {
        // The loop registers its delay after each batch; advance until the next batch lands.
        for (var i = 0; i < 200 && drain.Status.Moved < expectedMoved; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(5);
        }

        Assert.Equal(expectedMoved, drain.Status.Moved);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }

    public void Dispose() => _services.Dispose();

    private sealed class FakeParticipant(string protocol, int connections, int throwsAfter = int.MaxValue) : IDrainParticipant
    {
        private int _moved;

        public string Protocol => protocol;

        public int Moved => Volatile.Read(ref _moved);

        public DrainContext? LastContext { get; private set; }

        public int ConnectionCount => connections - Moved;

        public bool HasClientsToMove => Moved < connections;

        public int MoveClients(int maxCount, DrainContext context)
        {
            LastContext = context;
            if (_moved >= throwsAfter)
            {
                throw new InvalidOperationException("participant bug");
            }

            var count = Math.Min(Math.Min(maxCount, throwsAfter - _moved), connections - _moved);
            Interlocked.Add(ref _moved, count);
            return count;
        }
    }
}
