using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using AccessLayer.SessionGrains.Durable;
using AccessLayer.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace AccessLayer.Benchmarks.Durable;

/// <summary>
/// <c>durable-queue [seconds per row]</c>: appends/s and latency of <see cref="RedisDurableQueue"/>
/// against a local redis-server it starts (no persistence), 64 B entries, default bound (1,000 per
/// client: a full queue drops its oldest on every append, the costliest steady state). Each row
/// runs <c>inFlight</c> callers that each await one append at a time, as publishers awaiting PUBACK.
/// Bounded: every row stops at its time or at 2,000,000 appends.
/// </summary>
internal static class DurableQueueReport
{
    private const int EntryBytes = 64;
    private const int MaxAppendsPerRow = 2_000_000;

    public static async Task<string> RunAsync(TimeSpan perRow)
    {
        await using var redis = await RedisServerProcess.StartAsync().ConfigureAwait(false);
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint + ",allowAdmin=true").ConfigureAwait(false);
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"redis-server {(await connection.GetServer(connection.GetEndPoints()[0]).InfoAsync("server").ConfigureAwait(false)).SelectMany(g => g).First(p => p.Key == "redis_version").Value}, {EntryBytes} B entries, {perRow.TotalSeconds:0} s per row");
        report.AppendLine("| queues | subscribers per append | callers in flight | appends/s (entries/s) | commits/s | ops per commit | commit p50 / p99 ms | append p50 / p99 ms |");
        report.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        (int Queues, int FanOut, int InFlight)[] rows = [(1, 1, 1), (1, 1, 256), (100, 1, 1), (100, 1, 256), (100, 100, 16)];
        foreach (var (queues, fanOut, inFlight) in rows)
        {
            report.AppendLine(await RunRowAsync(connection, queues, fanOut, inFlight, perRow).ConfigureAwait(false));
        }

        // Scripts should travel as EVALSHA (their SHA once loaded), not as text on every append.
        var commands = (await connection.GetServer(connection.GetEndPoints()[0]).InfoAsync("commandstats").ConfigureAwait(false)).SelectMany(g => g)
            .Where(p => p.Key is "cmdstat_eval" or "cmdstat_evalsha").Select(p => $"{p.Key}: {p.Value}");
        report.AppendLine(string.Join("; ", commands));
        return report.ToString();
    }

    private static async Task<string> RunRowAsync(ConnectionMultiplexer connection, int queues, int fanOut, int inFlight, TimeSpan duration)
    {
        await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        var commitSeconds = new List<double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "fleet.durable.commit.duration" && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
        {
            lock (commitSeconds)
            {
                commitSeconds.Add(value);
            }
        });
        listener.Start();

        var prefix = $"al:bench{queues}x{fanOut}x{inFlight}:";
        var queue = new RedisDurableQueue(connection, new RedisDurableQueueOptions { KeyPrefix = prefix }, factory, NullLogger<RedisDurableQueue>.Instance, TimeProvider.System);
        await using (queue.ConfigureAwait(false))
        {
            var names = Enumerable.Range(0, queues).Select(i => $"client-{i}").ToArray();
            var entry = new byte[EntryBytes];
            Random.Shared.NextBytes(entry);
            var stop = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            var started = Stopwatch.GetTimestamp();
            var appends = 0;
            var latencies = new List<double>[inFlight];
            var callers = Enumerable.Range(0, inFlight).Select(caller => Task.Run(async () =>
            {
                var mine = latencies[caller] = new List<double>(1 << 16);
                var targets = new string[fanOut];
                for (var n = caller; Stopwatch.GetTimestamp() < stop && Interlocked.Increment(ref appends) <= MaxAppendsPerRow; n += inFlight)
                {
                    for (var i = 0; i < fanOut; i++)
                    {
                        targets[i] = names[(n + i) % queues];
                    }

                    var before = Stopwatch.GetTimestamp();
                    await queue.AppendAsync(targets, Guid.CreateVersion7(), entry).ConfigureAwait(false);
                    mine.Add(Stopwatch.GetElapsedTime(before).TotalMilliseconds);
                }
            })).ToArray();
            await Task.WhenAll(callers).ConfigureAwait(false);
            var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;

            var appendMs = latencies.SelectMany(l => l).Order().ToArray();
            double[] commitMs;
            lock (commitSeconds)
            {
                commitMs = commitSeconds.Select(s => s * 1000).Order().ToArray();
            }

            await connection.GetDatabase().ExecuteAsync("FLUSHDB").ConfigureAwait(false);
            return string.Create(CultureInfo.InvariantCulture,
                $"| {queues} | {fanOut} | {inFlight} | {appendMs.Length / elapsed:N0} ({appendMs.Length * fanOut / elapsed:N0}) | {commitMs.Length / elapsed:N0} | {(double)appendMs.Length / commitMs.Length:0.0} | {Percentile(commitMs, 0.50):0.00} / {Percentile(commitMs, 0.99):0.00} | {Percentile(appendMs, 0.50):0.00} / {Percentile(appendMs, 0.99):0.00} |");
        }
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
}
