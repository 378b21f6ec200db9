using AccessLayer.Bots.Client;
using AccessLayer.Bots.Metrics;
using AccessLayer.Bots.Tests.EndToEnd;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Bots.Tests.Client;

/// <summary>The lean MLP load client against the real gateway, in process, over loopback.</summary>
public sealed class LeanMlpConnectionTests : IAsyncLifetime
{
    private InProcessGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await InProcessGateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private LeanMlpSettings Settings(int inFlight, int payload = 64, string? deviceId = null, string service = "echo") => new()
    {
        Endpoint = _gateway.MlpEndPoint,
        DeviceId = deviceId ?? "lean-" + Guid.NewGuid().ToString("N")[..8],
        PayloadSize = payload,
        InFlight = inFlight,
        Service = service,
    };

    [Fact]
    public async Task Run_answers_every_call_of_the_budget_and_times_each_one()
    {
        await using var connection = await LeanMlpConnection.ConnectAsync(Settings(inFlight: 8, payload: 200), CancellationToken.None);
        var stats = new BotStats { MeasureFrom = 0 };

        var result = await connection.RunAsync(budget: 500, stats, CancellationToken.None, CancellationToken.None);

        Assert.Empty(result.Errors);
        Assert.Equal(500, result.Sent);
        Assert.Equal(500, result.Answered);
        Assert.Equal(500, result.MeasuredGood);
        Assert.Equal(500, result.Latency.TotalCount);
        Assert.Equal(500, stats.PublishedAll);
        Assert.Equal(500, stats.ReceivedAll);
        Assert.Equal(500, stats.Received);
        Assert.True(result.Latency.Min > 0, "every latency is from a real send timestamp");
    }

    [Fact]
    public async Task Run_keeps_the_window_full_and_sends_indexed_header_blocks_after_the_first_call()
    {
        await using var connection = await LeanMlpConnection.ConnectAsync(Settings(inFlight: 32), CancellationToken.None);
        var stats = new BotStats { MeasureFrom = 0 };

        var result = await connection.RunAsync(budget: 2000, stats, CancellationToken.None, CancellationToken.None);

        Assert.Empty(result.Errors);
        Assert.Equal(32, connection.Window);
        Assert.Equal(32, result.PeakInFlight);
        Assert.Equal(2000, result.Answered);
        // type+length (2), stream id (≤ 2), block length (1), two indexed fields (2), body (64): the first call adds its literals.
        var perCall = result.MeasuredBytesSent / (double)result.Sent;
        Assert.InRange(perCall, 64 + 6, 64 + 8);
        // A RESPONSE to the echo: type+length, stream id, status, empty block, body.
        Assert.InRange(result.MeasuredBytesReceived / (double)result.MeasuredGood, 64 + 5, 64 + 7);
    }

    [Fact]
    public async Task Window_is_capped_by_the_servers_max_concurrent_streams()
    {
        await using var connection = await LeanMlpConnection.ConnectAsync(Settings(inFlight: 500), CancellationToken.None);
        var stats = new BotStats { MeasureFrom = 0 };

        var result = await connection.RunAsync(budget: 1000, stats, CancellationToken.None, CancellationToken.None);

        Assert.Equal(MlpLimits.DefaultMaxConcurrentStreams, connection.Window);
        Assert.InRange(result.PeakInFlight, 1, MlpLimits.DefaultMaxConcurrentStreams);
        Assert.Empty(result.Errors);
        Assert.Equal(1000, result.MeasuredGood);
    }

    [Fact]
    public async Task Run_counts_error_answers_and_still_ends_when_the_budget_is_answered()
    {
        await using var connection = await LeanMlpConnection.ConnectAsync(Settings(inFlight: 4, service: "no-such-service"), CancellationToken.None);
        var stats = new BotStats { MeasureFrom = 0 };

        var result = await connection.RunAsync(budget: 200, stats, CancellationToken.None, CancellationToken.None);

        Assert.Equal(200, result.Answered);
        Assert.Equal(0, result.MeasuredGood);
        Assert.Equal(200, Assert.Contains("status_404", result.Errors));
        Assert.Equal(0, stats.Received);
        Assert.Equal(200, stats.ReceivedAll);
    }

    [Fact]
    public async Task Run_stops_on_the_servers_goaway_and_accounts_for_every_call()
    {
        var deviceId = "lean-taken-" + Guid.NewGuid().ToString("N")[..8];
        await using var first = await LeanMlpConnection.ConnectAsync(Settings(inFlight: 16, deviceId: deviceId), CancellationToken.None);
        var stats = new BotStats { MeasureFrom = 0 };
        using var abort = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var running = Task.Run(() => first.RunAsync(budget: 0, stats, CancellationToken.None, abort.Token));
        while (stats.ReceivedAll < 100 && !running.IsCompleted)
        {
            await Task.Yield();
        }

        // The same device connecting again takes the session over: the first link gets GOAWAY SESSION_TAKEN_OVER.
        await using var second = await LeanMlpConnection.ConnectAsync(Settings(inFlight: 1, deviceId: deviceId), CancellationToken.None);
        var result = await running;

        Assert.False(abort.IsCancellationRequested, "the run ended on the GOAWAY, not on the abort");
        Assert.Equal(MlpErrorCode.SessionTakenOver, result.GoAway);
        Assert.Equal(1, result.Errors["goaway_sessiontakenover"]);
        var unanswered = result.Errors.GetValueOrDefault("refused") + result.Errors.GetValueOrDefault("lost");
        Assert.Equal(result.Sent, result.Answered + unanswered);
        Assert.True(result.Answered >= 100);
    }

    [Fact]
    public async Task Connect_fails_with_the_servers_code_when_the_hello_is_refused()
    {
        await using var strict = await InProcessGateway.StartAsync("--Mlp:AllowAnonymous=false");

        var refused = await Assert.ThrowsAsync<LeanMlpException>(() => LeanMlpConnection.ConnectAsync(Settings(inFlight: 1) with { Endpoint = strict.MlpEndPoint }, CancellationToken.None));

        Assert.Equal(MlpErrorCode.AuthFailed, refused.Code);
    }
}
