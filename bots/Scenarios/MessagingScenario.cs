using System.Diagnostics;
using AccessLayer.Bots.Cli;
using AccessLayer.Bots.Client;
using AccessLayer.Bots.Reporting;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Bots.Scenarios;

/// <summary>
/// pub, sub, p2p, fan-in, fan-out and shared: connect and subscribe the subscribers, connect the publishers,
/// publish for the duration (or until each publisher's message count), then wait for stragglers and report.
/// </summary>
public static class MessagingScenario
{
    public static async Task<BotReport> RunAsync(ScenarioRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        var o = run.Options;
        var stats = run.Stats;
        var time = run.Time;
        var plan = ScenarioPlan.For(o);
        run.PlannedClients = plan.Publishers.Count + plan.Subscribers.Count;
        var brokers = await ScenarioRun.ResolveAsync(o, releaseBuffersWhenIdle: false, cancellationToken);
        var fleet = new ClientFleet(brokers, stats, new SourceAddressPool(o.SourceAddresses, o.SourceOffset), time, ScenarioRun.ReconnectPolicy(o));
        await using var fleetLifetime = fleet;

        // The connect phase shares the run's duration cap: a broker that never answers cannot hold a run forever.
        using var connectDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        connectDeadline.CancelAfter(o.Duration + TimeSpan.FromSeconds(30));
        var connectStart = time.GetTimestamp();

        run.Phase = "connecting subscribers";
        var subscribers = await fleet.ConnectAsync(plan.Subscribers.Select(s => s.ClientId).ToList(), o.ConnectRate, o.ConnectConcurrency, connectDeadline.Token, o.SubscriberOffset);
        run.Phase = "subscribing";
        var subscribed = new bool[subscribers.Length];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, subscribers.Length),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, o.ConnectConcurrency), CancellationToken = connectDeadline.Token },
            async (i, token) =>
            {
                if (subscribers[i] is { } slot)
                {
                    try
                    {
                        subscribed[i] = await slot.SubscribeAsync(plan.Subscribers[i].Filter, o.Qos, token);
                    }
                    catch (Exception e) when (e is TimeoutException or IOException or InvalidOperationException)
                    {
                        stats.Error("subscribe_failed");
                    }
                }
            });

        run.Phase = "connecting publishers";
        var publishers = await fleet.ConnectAsync(plan.Publishers.Select(p => p.ClientId).ToList(), o.ConnectRate, o.ConnectConcurrency, connectDeadline.Token);
        var connectSeconds = time.GetElapsedTime(connectStart).TotalSeconds;

        using var keepAliveStop = new CancellationTokenSource();
        var keepAlive = fleet.KeepAliveAsync(keepAliveStop.Token);

        var publications = plan.Publishers.Select(p => new BotPublication(p.Topic, o.PayloadSize)).ToArray();
        var rate = o.RatePerPublisher(plan.Publishers.Count);
        var publishStart = Stopwatch.GetTimestamp();
        stats.MeasureFrom = publishStart + (long)(o.Warmup.TotalSeconds * Stopwatch.Frequency);
        run.Phase = plan.Publishers.Count > 0 ? "publishing" : "receiving";
        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            stop.CancelAfter(o.Duration);
            var loops = new List<Task>(publishers.Length);
            for (var i = 0; i < publishers.Length; i++)
            {
                if (publishers[i] is { } slot)
                {
                    loops.Add(PublishLoopAsync(slot, publications[i], o.Qos, rate, o.Messages, time, stop.Token));
                }
            }

            if (loops.Count > 0)
            {
                await Task.WhenAll(loops);
            }
            else
            {
                await WaitAsync(o.Duration, time, cancellationToken);
            }
        }

        var publishEnd = Stopwatch.GetTimestamp();
        long expected = 0;
        var known = plan.Publishers.Count > 0;
        for (var i = 0; i < publications.Length && known; i++)
        {
            var receivers = plan.ReceiversOf(i, subscribed);
            known = receivers >= 0;
            expected += publications[i].MeasuredCount * Math.Max(0, receivers);
        }

        run.Phase = "draining";
        var drainStart = time.GetTimestamp();
        while (time.GetElapsedTime(drainStart) < o.Drain && !cancellationToken.IsCancellationRequested)
        {
            var settled = known
                ? stats.Received >= expected && (o.Qos == MqttQualityOfService.AtMostOnce || stats.Acked >= AllQosSent(publications))
                : plan.Publishers.Count > 0;
            if (settled)
            {
                break;
            }

            await WaitAsync(TimeSpan.FromMilliseconds(20), time, cancellationToken);
        }

        await keepAliveStop.CancelAsync();
        await keepAlive;
        run.Phase = "closing";

        var window = Math.Max(1e-9, (publishEnd - stats.MeasureFrom) / (double)Stopwatch.Frequency);
        var lastReceipt = stats.LastReceiveTimestamp;
        var receiveWindow = lastReceipt > stats.MeasureFrom ? (lastReceipt - stats.MeasureFrom) / (double)Stopwatch.Frequency : window;
        var report = new BotReport
        {
            Scenario = BotOptions.ScenarioName(o.Scenario),
            Broker = string.Join(',', o.Brokers),
            MqttVersion = run.VersionName,
            Qos = (int)o.Qos,
            PayloadSize = o.PayloadSize,
            Publishers = plan.Publishers.Count,
            Subscribers = plan.Subscribers.Count,
            Command = BotCommandLine.ToolCommand + " " + string.Join(' ', o.ToArgs()),
            Connections = new ConnectionFigures
            {
                Target = run.PlannedClients,
                Established = subscribers.Count(c => c is not null) + publishers.Count(c => c is not null),
                Failed = stats.ConnectFailures,
                ConnectSeconds = Math.Round(connectSeconds, 3),
                ConnectRate = Math.Round((subscribers.Count(c => c is not null) + publishers.Count(c => c is not null)) / Math.Max(1e-9, connectSeconds), 1),
                ConnectLatency = Percentiles.From(stats.ConnectLatency),
                Lost = stats.ConnectionsLost,
                Reconnects = stats.Reconnects,
                ReconnectLatency = Percentiles.From(stats.ReconnectLatency),
                RecoverySeconds = Math.Round(stats.RecoverySeconds(), 3),
            },
            Messages = new MessageFigures
            {
                Published = stats.Published,
                Acked = stats.Acked,
                Received = stats.Received,
                Expected = known ? expected : -1,
                Lost = known ? Math.Max(0, expected - stats.Received) : -1,
                WindowSeconds = Math.Round(window, 3),
                PublishRate = Math.Round(stats.Published / window, 1),
                ReceiveRate = Math.Round(stats.Received / Math.Max(1e-9, receiveWindow), 1),
            },
            Latency = Percentiles.From(stats.Latency),
        };

        await fleet.DisconnectAllAsync(256);
        foreach (var (kind, count) in stats.Errors)
        {
            report.Errors[kind] = count;
        }

        run.Phase = "done";
        return report;
    }

    /// <summary>
    /// One publisher: at <paramref name="rate"/> messages per second (start staggered within one interval so
    /// publishers do not fire in lockstep), or back to back when the rate is 0, until stopped or <paramref name="limit"/>.
    /// When the connection is lost it goes on over the slot's next one; what was not sent meanwhile is skipped, not sent in a burst.
    /// </summary>
    internal static async Task PublishLoopAsync(ClientSlot slot, BotPublication publication, MqttQualityOfService qos, double rate, long limit, TimeProvider time, CancellationToken stop)
    {
        long sent = 0;
        var client = slot.Current;
        try
        {
            if (rate <= 0)
            {
                while (!stop.IsCancellationRequested && (limit == 0 || sent < limit))
                {
                    if (!await client.PublishAsync(publication, qos, stop))
                    {
                        if (await slot.ReplacementAsync(client, stop) is not { } next)
                        {
                            return;
                        }

                        client = next;
                        continue;
                    }

                    // Unpaced publishers share two cores with everything else: yield now and then.
                    if ((++sent & 31) == 0)
                    {
                        await Task.Yield();
                    }
                }

                return;
            }

            var frequency = (double)time.TimestampFrequency;
            var ticksPerMessage = frequency / rate;
            var start = time.GetTimestamp() + (long)(Random.Shared.NextDouble() * ticksPerMessage);
            while (!stop.IsCancellationRequested && (limit == 0 || sent < limit))
            {
                var now = time.GetTimestamp();
                var due = now < start ? 0 : (long)((now - start) / ticksPerMessage) + 1;
                if (sent >= due)
                {
                    var next = start + (long)(sent * ticksPerMessage);
                    var wait = TimeSpan.FromSeconds(Math.Max(0.001, (next - now) / frequency));
                    await Task.Delay(wait, time, stop);
                    continue;
                }

                if (!await client.PublishAsync(publication, qos, stop))
                {
                    if (await slot.ReplacementAsync(client, stop) is not { } next)
                    {
                        return;
                    }

                    client = next;
                    start = time.GetTimestamp() - (long)(sent * ticksPerMessage);
                    continue;
                }

                sent++;
            }
        }
        catch (OperationCanceledException)
        {
            // The run's duration is over.
        }
    }

    private static long AllQosSent(BotPublication[] publications) => publications.Sum(p => p.SentCount);

    private static async Task WaitAsync(TimeSpan delay, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, time, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Cancelled by the caller; the run ends with what it has.
        }
    }
}
