using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using AccessLayer.Bots.Cli;
using AccessLayer.Bots.Client;
using AccessLayer.Bots.Reporting;
using AccessLayer.Client;

namespace AccessLayer.Bots.Scenarios;

/// <summary>
/// mlp-push: --count devices connect over MLP; one pusher POSTs sequenced pushes to <c>/api/v1/push</c>
/// on the gateway's management surface (--management, bearer --management-token) at --rate (--concurrency POSTs in flight, --messages POSTs at most), addressed to one
/// device (rotating) or to all (their shared user id). Latency is POST start to the device's push
/// callback (timestamp in the payload); the SDK ACKs each push when the callback returns, and the
/// gateway's acknowledged counter over the run is read back from /metrics.
/// </summary>
public static class MlpPushScenario
{
    public const string Service = "bots";
    public const string Operation = "push";
    private const string AckMetric = "accesslayer_mlp_pushes_acknowledged_total";

    public static async Task<BotReport> RunAsync(ScenarioRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        var o = run.Options;
        var stats = run.Stats;
        run.PlannedClients = o.Count;
        var fleet = new MlpFleet(o, stats, Guid.NewGuid().ToString("N")[..8]);
        await using var fleetLifetime = fleet;
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = o.Concurrency, UseProxy = false })
        {
            BaseAddress = new Uri(o.Management.EndsWith('/') ? o.Management : o.Management + "/"),
            Timeout = TimeSpan.FromSeconds(10),
        };
        if (o.ManagementToken.Length > 0)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", o.ManagementToken);
        }

        var acksBefore = await ReadAcksAsync(http, cancellationToken);

        run.Phase = "connecting devices";
        var connectStart = Stopwatch.GetTimestamp();
        using (var connectDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connectDeadline.CancelAfter(o.Duration + TimeSpan.FromSeconds(30));
            try
            {
                await fleet.ConnectAsync(_ => OnPush, connectDeadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                stats.Error("connect_phase_timeout");
            }
        }

        var connectSeconds = Stopwatch.GetElapsedTime(connectStart).TotalSeconds;
        var connected = Enumerable.Range(0, o.Count).Where(i => fleet.Clients[i] is not null).Select(i => MlpFleet.DeviceId(o, fleet.RunId, i)).ToArray();
        var pushStart = Stopwatch.GetTimestamp();
        stats.MeasureFrom = pushStart + (long)(o.Warmup.TotalSeconds * Stopwatch.Frequency);
        long online = 0, dropped = 0, next = -1;
        long expected = 0;
        run.Phase = "pushing";
        if (connected.Length > 0)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            stop.CancelAfter(o.Duration);
            var budget = PacedLoop.Budget(o.Messages);
            var workerRate = o.RatePerPublisher(1) / o.Concurrency;
            var loops = new List<Task>();
            for (var w = 0; w < o.Concurrency; w++)
            {
                var payload = new byte[o.PayloadSize];
                Random.Shared.NextBytes(payload);
                loops.Add(PacedLoop.RunAsync(workerRate, budget, async () =>
                {
                    var target = o.PushTarget == MlpPushTarget.All
                        ? ("userId", fleet.UserId)
                        : ("deviceId", connected[(int)((ulong)Interlocked.Increment(ref next) % (ulong)connected.Length)]);
                    var sent = Stopwatch.GetTimestamp();
                    PayloadStamp.Write(payload, sent);
                    var answer = await PostAsync(http, target, payload, run, sent, cancellationToken);
                    if (answer is { } a)
                    {
                        Interlocked.Add(ref online, a.Online);
                        Interlocked.Add(ref dropped, a.Dropped);
                        if (sent >= stats.MeasureFrom)
                        {
                            Interlocked.Add(ref expected, a.Queued);
                        }
                    }

                    return true;
                }, stop.Token));
            }

            await Task.WhenAll(loops);
        }

        var pushEnd = Stopwatch.GetTimestamp();
        run.Phase = "draining";
        var drainStart = Stopwatch.GetTimestamp();
        while (stats.Received < Interlocked.Read(ref expected) && Stopwatch.GetElapsedTime(drainStart) < o.Drain && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(20, cancellationToken);
        }

        // The SDK ACKs within a second of processing (docs/protocol.md §10.2): give the last ACKs that long.
        await Task.Delay(TimeSpan.FromSeconds(1.2), cancellationToken);
        var acksAfter = await ReadAcksAsync(http, cancellationToken);
        run.Phase = "closing";

        var window = Math.Max(1e-9, (pushEnd - stats.MeasureFrom) / (double)Stopwatch.Frequency);
        var lastReceipt = stats.LastReceiveTimestamp;
        var receiveWindow = lastReceipt > stats.MeasureFrom ? (lastReceipt - stats.MeasureFrom) / (double)Stopwatch.Frequency : window;
        var report = MlpReports.Create(run, fleet.Established, connectSeconds);
        report.Messages = new MessageFigures
        {
            Published = stats.Published,
            Acked = stats.Acked,
            Received = stats.Received,
            Expected = expected,
            Lost = Math.Max(0, expected - stats.Received),
            WindowSeconds = Math.Round(window, 3),
            PublishRate = Math.Round(stats.Published / window, 1),
            ReceiveRate = Math.Round(stats.Received / Math.Max(1e-9, receiveWindow), 1),
        };
        report.Mlp = new MlpFigures
        {
            Concurrency = o.Concurrency,
            CallsPerSecond = Math.Round(stats.Published / window, 1),
            PushTarget = o.PushTarget == MlpPushTarget.All ? "all" : "one",
            PushOnline = online,
            PushDropped = dropped,
            GatewayAcks = acksBefore >= 0 && acksAfter >= 0 ? acksAfter - acksBefore : -1,
        };
        MlpReports.CopyErrors(stats, report);
        run.Phase = "done";
        return report;

        ValueTask OnPush(MlpPush push, CancellationToken token)
        {
            var now = Stopwatch.GetTimestamp();
            var stamp = push.Body.Length >= PayloadStamp.Size ? BinaryPrimitives.ReadInt64LittleEndian(push.Body.Span) : 0;
            stats.MessageReceived(stamp, now);
            if (push.Redelivered)
            {
                stats.Error("push_redelivered");
            }

            return ValueTask.CompletedTask;
        }
    }

    private readonly record struct PushAnswer(long Online, long Queued, long Dropped);

    private static async Task<PushAnswer?> PostAsync(HttpClient http, (string Key, string Value) target, byte[] payload, ScenarioRun run, long sent, CancellationToken cancellationToken)
    {
        var stats = run.Stats;
        var json = string.Create(CultureInfo.InvariantCulture,
            $"{{\"{target.Key}\":{JsonSerializer.Serialize(target.Value, BotJsonStrings.Default.String)},\"service\":\"{Service}\",\"operation\":\"{Operation}\",\"payloadBase64\":\"{Convert.ToBase64String(payload)}\"}}");
        try
        {
            using var content = new StringContent(json, Encoding.UTF8, "application/json");
            using var response = await http.PostAsync("api/v1/push", content, cancellationToken);
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                stats.Error("http_" + ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture));
                return null;
            }

            stats.PublishWritten(sent);
            if (sent >= stats.MeasureFrom)
            {
                stats.PublishAcked();
            }
            using var document = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken));
            var root = document.RootElement;
            return new PushAnswer(root.GetProperty("online").GetInt64(), root.GetProperty("queued").GetInt64(), root.GetProperty("dropped").GetInt64());
        }
        catch (HttpRequestException)
        {
            stats.Error("http_failed");
            return null;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            stats.Error("http_timeout");
            return null;
        }
    }

    /// <summary>Sum of the gateway's acknowledged-push counter in /metrics; -1 when it cannot be read.</summary>
    internal static async Task<long> ReadAcksAsync(HttpClient http, CancellationToken cancellationToken)
    {
        try
        {
            var text = await http.GetStringAsync("metrics", cancellationToken);
            // A page without the family is a counter nobody has incremented yet (the OpenTelemetry exporter writes a
            // counter from its first increment on): 0, not unknown.
            return Math.Max(0, SumMetric(text, AckMetric));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return -1;
        }
    }

    /// <summary>Sum of every sample of a Prometheus metric family (any suffix such as _total, any labels); -1 when absent.</summary>
    internal static long SumMetric(string exposition, string name)
    {
        double sum = 0;
        var found = false;
        foreach (var line in exposition.Split('\n'))
        {
            if (!line.StartsWith(name, StringComparison.Ordinal) || line.Length == name.Length)
            {
                continue;
            }

            var rest = line.AsSpan(name.Length);
            var space = rest.LastIndexOf(' ');
            if (space < 0 || !(rest[0] is '_' or '{' or ' '))
            {
                continue;
            }

            var head = rest[..space];
            if (head.StartsWith("_bucket") || head.StartsWith("_created"))
            {
                continue;
            }

            if (double.TryParse(rest[(space + 1)..].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                sum += value;
                found = true;
            }
        }

        return found ? (long)sum : -1;
    }
}
