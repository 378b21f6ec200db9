using System.Buffers.Binary;
using System.Diagnostics;
using AccessLayer.Bots.Cli;
using AccessLayer.Bots.Client;
using AccessLayer.Bots.Reporting;
using AccessLayer.Client;

namespace AccessLayer.Bots.Scenarios;

/// <summary>
/// mlp-rpc: --count SDK connections, each with --concurrency workers calling <c>echo/echo</c> with a
/// --size body (send timestamp in the first 8 bytes), paced by --rate per connection or unpaced,
/// bounded by --messages per connection and by --duration. Counts each call's frame bytes from the SDK.
/// </summary>
public static class MlpRpcScenario
{
    public const string Service = "echo";
    public const string Operation = "echo";

    public static async Task<BotReport> RunAsync(ScenarioRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        var o = run.Options;
        var stats = run.Stats;
        run.PlannedClients = o.Count;
        var fleet = new MlpFleet(o, stats, Guid.NewGuid().ToString("N")[..8]);
        await using var fleetLifetime = fleet;

        run.Phase = "connecting";
        var connectStart = Stopwatch.GetTimestamp();
        using (var connectDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connectDeadline.CancelAfter(o.Duration + TimeSpan.FromSeconds(30));
            try
            {
                await fleet.ConnectAsync(static _ => null, connectDeadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                stats.Error("connect_phase_timeout");
            }
        }

        var connectSeconds = Stopwatch.GetElapsedTime(connectStart).TotalSeconds;
        var callStart = Stopwatch.GetTimestamp();
        stats.MeasureFrom = callStart + (long)(o.Warmup.TotalSeconds * Stopwatch.Frequency);
        run.Phase = "calling";
        var workerRate = o.RatePerPublisher(o.Count) / o.Concurrency;
        var callOptions = new MlpCallOptions { Timeout = TimeSpan.FromSeconds(10), DisableCompression = !o.Compress };
        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            stop.CancelAfter(o.Duration);
            var loops = new List<Task>();
            foreach (var client in fleet.Clients)
            {
                if (client is null)
                {
                    continue;
                }

                var budget = PacedLoop.Budget(o.Messages);
                for (var w = 0; w < o.Concurrency; w++)
                {
                    var body = new byte[o.PayloadSize];
                    Random.Shared.NextBytes(body);
                    loops.Add(PacedLoop.RunAsync(workerRate, budget, () => CallOnceAsync(client, body, callOptions, run, cancellationToken), stop.Token));
                }
            }

            await Task.WhenAll(loops);
        }

        var callEnd = Stopwatch.GetTimestamp();
        run.Phase = "closing";
        var window = Math.Max(1e-9, (callEnd - stats.MeasureFrom) / (double)Stopwatch.Frequency);
        var calls = Math.Max(1, stats.Received);
        var report = MlpReports.Create(run, fleet.Established, connectSeconds);
        report.Messages = new MessageFigures
        {
            Published = stats.Published,
            Acked = stats.Acked,
            Received = stats.Received,
            Expected = stats.Published,
            Lost = Math.Max(0, stats.Published - stats.Received),
            WindowSeconds = Math.Round(window, 3),
            PublishRate = Math.Round(stats.Published / window, 1),
            ReceiveRate = Math.Round(stats.Received / window, 1),
        };
        report.Mlp = new MlpFigures
        {
            Client = "sdk",
            Concurrency = o.Concurrency,
            CallsPerSecond = Math.Round(stats.Received / window, 1),
            BytesSentPerCall = Math.Round(stats.BytesSent / (double)calls, 1),
            BytesReceivedPerCall = Math.Round(stats.BytesReceived / (double)calls, 1),
        };
        MlpReports.CopyErrors(stats, report);
        run.Phase = "done";
        return report;
    }

    private static async Task<bool> CallOnceAsync(MlpClient client, byte[] body, MlpCallOptions options, ScenarioRun run, CancellationToken cancellationToken)
    {
        var stats = run.Stats;
        var sent = Stopwatch.GetTimestamp();
        PayloadStamp.Write(body, sent);
        stats.PublishWritten(sent);
        MlpResponse response;
        try
        {
            response = await client.CallAsync(Service, Operation, body, options, cancellationToken);
        }
        catch (Exception e) when (e is MlpException or TimeoutException or IOException)
        {
            stats.Error(MlpFleet.ErrorKind(e));
            // A lost link fails every later call at once: stop this worker instead of spinning.
            return client.IsConnected;
        }

        var now = Stopwatch.GetTimestamp();
        stats.MessageReceived(sent, now);
        stats.CallBytes(sent, response.BytesSent, response.BytesReceived);
        if (!response.IsSuccess)
        {
            stats.Error("status_" + response.Status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        else if (response.Body.Length != body.Length || BinaryPrimitives.ReadInt64LittleEndian(response.Body.Span) != sent)
        {
            stats.Error("echo_mismatch");
        }
        else if (sent >= stats.MeasureFrom)
        {
            stats.PublishAcked();
        }

        return true;
    }
}
