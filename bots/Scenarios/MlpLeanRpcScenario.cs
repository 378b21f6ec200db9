using System.Diagnostics;
using System.Net;
using AccessLayer.Bots.Client;
using AccessLayer.Bots.Reporting;

namespace AccessLayer.Bots.Scenarios;

/// <summary>
/// mlp-rpc with <c>--mlp-client lean</c>: --count <see cref="LeanMlpConnection"/>s (raw sockets, pre-encoded
/// REQUESTs, --concurrency pipelined per connection), the same echo call, bounds and report as the SDK mode.
/// What h2load is to HTTP/2: it measures the server, not a client library. Unpaced (--rate is ignored).
/// </summary>
public static class MlpLeanRpcScenario
{
    public static async Task<BotReport> RunAsync(ScenarioRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        var o = run.Options;
        var stats = run.Stats;
        run.PlannedClients = o.Count;
        var runId = Guid.NewGuid().ToString("N")[..8];
        var address = IPAddress.TryParse(o.Host, out var parsed) ? parsed : (await Dns.GetHostAddressesAsync(o.Host, cancellationToken))[0];
        var endpoint = new IPEndPoint(address, o.Port);

        run.Phase = "connecting";
        var connectStart = Stopwatch.GetTimestamp();
        var connections = new LeanMlpConnection?[o.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, o.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, o.ConnectConcurrency), CancellationToken = cancellationToken },
            async (i, token) =>
            {
                var deviceId = MlpFleet.DeviceId(o, runId, i);
                stats.ConnectAttempt();
                var began = Stopwatch.GetTimestamp();
                try
                {
                    var deviceToken = MlpFleet.MintToken(o, deviceId, MlpFleet.UserOf(o, runId, i));
                    LeanMlpSettings Settings(IPEndPoint at) => new()
                    {
                        Endpoint = at,
                        DeviceId = deviceId,
                        DeviceToken = deviceToken,
                        PayloadSize = o.PayloadSize,
                        InFlight = o.Concurrency,
                    };
                    connections[i] = await LeanMlpConnection.ConnectAsync(Settings(endpoint), token);
                    if (o.FollowHome && connections[i]!.Welcome?.HomeEndpoints.FirstOrDefault(e => e.Transport is AccessLayer.Protocol.Mlp.Envelopes.Transport.Tcp or AccessLayer.Protocol.Mlp.Envelopes.Transport.Unspecified) is { } home)
                    {
                        // The gateway says this device's zone lives in another site: it goes there, as a steered SDK client does on its next connect.
                        await connections[i]!.DisposeAsync();
                        connections[i] = null;
                        var homeAddress = IPAddress.TryParse(home.Host, out var literal) ? literal : (await Dns.GetHostAddressesAsync(home.Host, token))[0];
                        connections[i] = await LeanMlpConnection.ConnectAsync(Settings(new IPEndPoint(homeAddress, (int)home.Port)), token);
                    }
                    stats.ConnectSucceeded(Stopwatch.GetTimestamp() - began);
                }
                catch (Exception e) when (e is LeanMlpException or IOException or OperationCanceledException or System.Net.Sockets.SocketException or AccessLayer.Protocol.Mlp.MlpProtocolException)
                {
                    stats.ConnectFailed(e is LeanMlpException refused ? "mlp_" + refused.Code.ToString().ToLowerInvariant() : MlpFleet.ErrorKind(e));
                }
            });

        var established = connections.Where(c => c is not null).Select(c => c!).ToList();
        var connectSeconds = Stopwatch.GetElapsedTime(connectStart).TotalSeconds;
        var callStart = Stopwatch.GetTimestamp();
        stats.MeasureFrom = callStart + (long)(o.Warmup.TotalSeconds * Stopwatch.Frequency);
        run.Phase = "calling";
        LeanMlpResult[] results;
        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        using (var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            // Duration and drain run on the run's clock, so a test can end a run without waiting for it.
            using var stopTimer = run.Time.CreateTimer(static s => ((CancellationTokenSource)s!).Cancel(), stop, o.Duration, Timeout.InfiniteTimeSpan);
            using var abortTimer = run.Time.CreateTimer(static s => ((CancellationTokenSource)s!).Cancel(), abort, o.Duration + o.Drain, Timeout.InfiniteTimeSpan);
            results = await Task.WhenAll(established.Select(c => Task.Run(() => c.RunAsync(o.Messages, stats, stop.Token, abort.Token), CancellationToken.None)));
        }

        var callEnd = Stopwatch.GetTimestamp();
        run.Phase = "closing";
        foreach (var connection in established)
        {
            await connection.DisposeAsync();
        }

        long measuredSent = 0, good = 0, bytesSent = 0, bytesReceived = 0;
        var peak = 0;
        foreach (var result in results)
        {
            measuredSent += result.MeasuredSent;
            good += result.MeasuredGood;
            bytesSent += result.MeasuredBytesSent;
            bytesReceived += result.MeasuredBytesReceived;
            peak = Math.Max(peak, result.PeakInFlight);
            stats.Latency.Add(result.Latency);
            foreach (var (kind, count) in result.Errors)
            {
                stats.Errors.AddOrUpdate(kind, count, (_, n) => n + count);
            }
        }

        var window = Math.Max(1e-9, (callEnd - stats.MeasureFrom) / (double)Stopwatch.Frequency);
        var report = MlpReports.Create(run, established.Count, connectSeconds);
        report.Messages = new MessageFigures
        {
            Published = measuredSent,
            Acked = good,
            Received = good,
            Expected = measuredSent,
            Lost = Math.Max(0, measuredSent - good),
            WindowSeconds = Math.Round(window, 3),
            PublishRate = Math.Round(measuredSent / window, 1),
            ReceiveRate = Math.Round(good / window, 1),
        };
        report.Mlp = new MlpFigures
        {
            Client = "lean",
            Concurrency = established.Count > 0 ? established[0].Window : o.Concurrency,
            PeakInFlight = peak,
            CallsPerSecond = Math.Round(good / window, 1),
            BytesSentPerCall = Math.Round(bytesSent / (double)Math.Max(1, measuredSent), 1),
            BytesReceivedPerCall = Math.Round(bytesReceived / (double)Math.Max(1, good), 1),
        };
        MlpReports.CopyErrors(stats, report);
        run.Phase = "done";
        return report;
    }
}
