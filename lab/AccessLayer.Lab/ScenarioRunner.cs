using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace AccessLayer.Lab;

/// <summary>
/// Runs one scenario from inside the client namespace: mock backend, gateway, impairments, the SDK and the
/// naive client side by side on the same path with the same schedule, then the figures per client, or the
/// reason the run is broken.
/// </summary>
internal sealed class ScenarioRunner(Scenario scenario, LabTopology topology, string gatewayDll, string delayScript)
{
    private readonly Stopwatch _clock = new();
    private readonly List<(double Start, double End)> _outages = [];
    private readonly List<double> _returns = [];
    private readonly Dictionary<string, int> _pushesAccepted = new(StringComparer.Ordinal);
    private readonly HashSet<string> _pushIds = new(StringComparer.Ordinal);
    private readonly List<(string Device, string Step)> _heartbeatSteps = [];
    private int _pushesRefused;

    public async Task<ScenarioResult> RunAsync(CancellationToken cancellationToken)
    {
        await using var backend = await MockBackend.StartAsync(topology.MgmtClientAddress, LabTopology.BackendPort, () => _clock.Elapsed.TotalSeconds);
        using var gateway = new GatewayNode(topology, gatewayDll);
        await gateway.StartAsync(cancellationToken);
        using var impairments = new Impairments(topology, delayScript);
        impairments.Apply(scenario.Path);
        Log($"path: {scenario.Path}");

        await using var sdk = new LabClient(ClientKind.Sdk, $"sdk-{topology.Index}", topology, _clock);
        await using var naive = new LabClient(ClientKind.Naive, $"naive-{topology.Index}", topology, _clock);
        LabClient[] clients = [sdk, naive];
        await Task.WhenAll(clients.Select(c => c.ConnectAsync(cancellationToken)));
        Log("both clients connected");

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayNode.ManagementToken);
        _clock.Start();
        var calls = new List<Task>();
        var schedule = scenario.CallTimes().Select((at, i) => (at, i)).ToList();
        var workload = Task.Run(async () =>
        {
            foreach (var (at, i) in schedule)
            {
                await WaitUntilAsync(at, cancellationToken);
                var operation = i % 2 == 0 ? "get" : "add";
                lock (calls)
                    calls.AddRange(clients.Select(c => c.CallAsync(i, operation, cancellationToken)));
            }
        }, cancellationToken);
        var pushes = Task.Run(async () =>
        {
            var k = 0;
            foreach (var at in scenario.PushTimes())
            {
                await WaitUntilAsync(at, cancellationToken);
                foreach (var client in clients)
                    await PushAsync(http, client.DeviceId, k, cancellationToken);
                k++;
            }
        }, cancellationToken);
        var timeline = Task.Run(() => RunTimelineAsync(impairments, gateway, clients, cancellationToken), cancellationToken);
        using var sampling = new CancellationTokenSource();
        var heartbeats = Task.Run(() => SampleHeartbeatsAsync(clients, sampling.Token), CancellationToken.None);

        await Task.WhenAll(workload, pushes, timeline);
        Task[] outstanding;
        lock (calls)
            outstanding = [.. calls];
        // Every call ends by itself (its timeout plus the client's guard); this only bounds a lab bug.
        await Task.WhenAny(Task.WhenAll(outstanding), Task.Delay(TimeSpan.FromSeconds(60), cancellationToken));
        await WaitForPushesAsync(clients, cancellationToken);
        await sampling.CancelAsync();
        await heartbeats;
        var duration = _clock.Elapsed.TotalSeconds;
        Log($"done after {duration:0} s");
        foreach (var failed in sdk.Calls.Where(c => !c.Ok).OrderBy(c => c.IssuedAt))
            Log($"sdk call {failed.Index} {failed.Operation} issued {failed.IssuedAt:0.00} s failed after {failed.Latency:0.00} s: {failed.Error}");
        Log("sdk latencies over 1 s (index op transport ms): " + string.Join(", ", sdk.Calls.Where(c => c.Ok && c.Latency > 1).OrderBy(c => c.Index).Select(c => $"{c.Index} {c.Operation} {c.Transport} {c.Latency * 1000:0}")));
        foreach (var line in CallTimeline.Describe(sdk, backend, scenario.Path).Concat(CallTimeline.Describe(naive, backend, scenario.Path)))
            Log(line);
        Log($"sdk retries {sdk.Client.RetriesSent}, hedges {sdk.Client.HedgesSent} ({sdk.Client.HedgesOnSecondaryLink} on the secondary link), calls sent on both links at once {sdk.Client.CallsDuplicated} (fallback copy at once past a stalled session link {sdk.Client.Router.Hedger.PastStalledLink}), tail-loss trailers {sdk.Client.TrailersSent}, secondary links opened {sdk.Client.SecondaryLinksOpened}, session links lost {sdk.Disconnects.Count}, hedge delay {sdk.Client.HedgeDelay?.TotalMilliseconds:0} ms, quality {sdk.Client.Quality}; SRTT {sdk.Client.SmoothedRtt.TotalMilliseconds:0} ms, RTTVAR {sdk.Client.RttVariation.TotalMilliseconds:0} ms; add repeats answered from the backend's key store {backend.Repeats}{(LabClient.AddWithoutKey ? " (add without key)" : "")}");
        foreach (var line in RecoveryTimeline.Describe(sdk, _outages))
            Log(line);

        Log($"backend requests per call: sdk {backend.Arrivals(sdk.DeviceId + "/")} for {sdk.Calls.Count} calls, naive {backend.Arrivals(naive.DeviceId + "/")} for {naive.Calls.Count}; loss recovery: gateway Mlp:TcpRtoMin {(GatewayNode.TcpRtoMinMs is { } g ? g + " ms" : "default")}, sdk TcpRtoMin {sdk.Client.Options.WeakNetwork.TcpRtoMin.TotalMilliseconds:0} ms, gateway net.ipv4.tcp_recovery {Impairments.GatewayTcpRecovery ?? "default"}");
        foreach (var (ns, side) in new[] { (topology.ClientNs, "clients' namespace (both clients)"), (topology.GatewayNs, "gateway's namespace") })
        {
            Log($"TCP counters, {side}: {TcpCounters(ns)}");
            Log($"TCP sockets to or from the gateway's device ports, {side}: {TcpSockets(ns)}");
        }
        var broken = Validate(gateway, backend, clients, schedule.Count);
        return new ScenarioResult
        {
            Scenario = scenario.Name,
            Description = scenario.Description,
            Broken = broken,
            DurationS = Math.Round(duration, 1),
            Namespaces = [topology.ClientNs, topology.GatewayNs],
            Clients = broken is null ? [.. clients.Select(c => Measure(c, backend))] : [],
        };
    }

    /// <summary>
    /// The namespace's TCP retransmission counters since it was created (nstat, absolute): RTOs fired, segments resent, tail-loss probes,
    /// and the spurious ones (DSACKs received: the peer already had the data; F-RTO's spurious RTOs).
    /// </summary>
    private static string TcpCounters(string ns)
    {
        string[] names = ["TcpRetransSegs", "TcpExtTCPTimeouts", "TcpExtTCPLossProbes", "TcpExtTCPDSACKRecv", "TcpExtTCPSpuriousRTOs", "TcpExtTCPDSACKUndo", "TcpExtTCPLossUndo"];
        var (code, output, error) = Shell.TryRun("ip", ["netns", "exec", ns, "nstat", "-asz", .. names]);
        if (code != 0)
            return $"nstat failed: {error.Trim()}";
        var values = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(parts => parts.Length >= 2 && names.Contains(parts[0]))
            .Select(parts => $"{parts[0].Replace("TcpExtTCP", "", StringComparison.Ordinal)} {parts[1]}");
        return string.Join(", ", values);
    }

    /// <summary>Per socket on the gateway's MLP or HTTP port (ss -ti): the kernel's RTO, its SRTT/RTTVAR, retransmissions and DSACKed (spurious) ones.</summary>
    private static string TcpSockets(string ns)
    {
        var filter = $"( sport = :{LabTopology.MlpPort} or dport = :{LabTopology.MlpPort} or sport = :{LabTopology.HttpPort} or dport = :{LabTopology.HttpPort} )";
        var (code, output, error) = Shell.TryRun("ip", "netns", "exec", ns, "ss", "-tinH", "state", "established", filter);
        if (code != 0)
            return $"ss failed: {error.Trim()}";
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var sockets = new List<string>();
        for (var i = 0; i + 1 < lines.Length; i += 2)
        {
            var ends = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var fields = lines[i + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Where(f => f.StartsWith("rto:", StringComparison.Ordinal) || f.StartsWith("rtt:", StringComparison.Ordinal) || f.StartsWith("retrans:", StringComparison.Ordinal)
                    || f.StartsWith("dsack_dups:", StringComparison.Ordinal) || f.StartsWith("reord_seen:", StringComparison.Ordinal) || f.StartsWith("lost:", StringComparison.Ordinal));
            sockets.Add($"{(ends.Length >= 4 ? ends[^2] + ">" + ends[^1] : "?")} {string.Join(' ', fields)}");
        }

        return string.Join("; ", sockets);
    }

    private async Task RunTimelineAsync(Impairments impairments, GatewayNode gateway, LabClient[] clients, CancellationToken cancellationToken)
    {
        double? outageStart = null;
        foreach (var step in scenario.Events.OrderBy(e => e.At))
        {
            await WaitUntilAsync(step.At, cancellationToken);
            var now = _clock.Elapsed.TotalSeconds;
            Log($"{step.Action} at {now:0.0} s");
            switch (step.Action)
            {
                case LabAction.BlackholeOn:
                    impairments.Blackhole("radio", on: true);
                    // From when the rules are in place (applying them takes a few hundred ms under load): the path is surely dead from here.
                    outageStart = _clock.Elapsed.TotalSeconds;
                    break;
                case LabAction.BlackholeOff:
                    impairments.Blackhole("radio", on: false);
                    EndOutage(ref outageStart, _clock.Elapsed.TotalSeconds);
                    break;
                case LabAction.ResetOn:
                    impairments.Reset(on: true);
                    outageStart = now;
                    break;
                case LabAction.ResetOff:
                    impairments.Reset(on: false);
                    EndOutage(ref outageStart, _clock.Elapsed.TotalSeconds);
                    break;
                case LabAction.KillGateway:
                    gateway.Kill();
                    outageStart = now;
                    break;
                case LabAction.StartGateway:
                    await gateway.StartAsync(cancellationToken);
                    EndOutage(ref outageStart, _clock.Elapsed.TotalSeconds);
                    Log($"gateway listening again at {_clock.Elapsed.TotalSeconds:0.0} s");
                    break;
                case LabAction.Handover:
                    // The old network is gone without a word (the radio left it); the new one reaches the gateway by another address.
                    impairments.Blackhole("radio", on: true);
                    foreach (var client in clients)
                    {
                        client.MoveTo(new Uri($"tcp://{topology.HandoverGatewayAddress}:{LabTopology.MlpPort}"),
                            new Uri($"http://{topology.HandoverGatewayAddress}:{LabTopology.HttpPort}/"), "handover");
                    }

                    _returns.Add(now);
                    break;
                default:
                    throw new InvalidOperationException($"unknown lab action {step.Action}");
            }
        }
    }

    // The smart heartbeat's interval is a property; its changes over the run show how it settles.
    private async Task SampleHeartbeatsAsync(LabClient[] clients, CancellationToken cancellationToken)
    {
        var last = new double[clients.Length];
        var hedgeDelays = new List<string>();
        var sessionLink = new List<string>();
        var ticks = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            // The SDK's hedge delay over the run (every 5 s), for the lossy scenarios' timelines; beside it the session link's own copies
            // (the median of the SDK's window) and how long its oldest unanswered copy had waited (a stalled stream shows in both).
            if (scenario.Path.LossPercent > 0 && ticks++ % 10 == 0 && clients[0].Client.HedgeDelay is { } hedgeDelay)
            {
                hedgeDelays.Add($"{_clock.Elapsed.TotalSeconds:0}:{hedgeDelay.TotalMilliseconds:0}");
                var sdk = clients[0].Client;
                sessionLink.Add($"{_clock.Elapsed.TotalSeconds:0}:{sdk.Router.CallLatency.Median()?.TotalMilliseconds:0}/{sdk.CurrentLink?.OldestUnansweredAge().TotalMilliseconds:0}");
            }
            for (var i = 0; i < clients.Length; i++)
            {
                var interval = clients[i].Client.HeartbeatInterval.TotalSeconds;
                if (interval != last[i])
                {
                    last[i] = interval;
                    lock (_heartbeatSteps)
                        _heartbeatSteps.Add((clients[i].DeviceId, $"{_clock.Elapsed.TotalSeconds:0}:{interval:0.##}"));
                }
            }

            try
            {
                await Task.Delay(500, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        if (hedgeDelays.Count > 0)
        {
            Log($"{clients[0].DeviceId} hedge delay over the run (s:ms): {string.Join(" ", hedgeDelays)}");
            Log($"{clients[0].DeviceId} session link over the run (s:median of its copies ms/its oldest unanswered copy's age ms): {string.Join(" ", sessionLink)}");
        }
    }

    private void EndOutage(ref double? start, double end)
    {
        if (start is { } s)
        {
            _outages.Add((s, end));
            _returns.Add(end);
        }

        start = null;
    }

    private async Task PushAsync(HttpClient http, string deviceId, int k, CancellationToken cancellationToken)
    {
        var id = $"{deviceId}#{k}";
        try
        {
            using var response = await http.PostAsJsonAsync(
                $"http://{topology.MgmtGatewayAddress}:{LabTopology.ManagementPort}/api/v1/push",
                new { deviceId, service = "shop", operation = "notice", payloadText = id, sequenced = true }, cancellationToken);
            if (response.StatusCode == System.Net.HttpStatusCode.Accepted)
            {
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                if (body.RootElement.GetProperty("devices").GetInt32() > 0 && body.RootElement.GetProperty("dropped").GetInt32() == 0)
                {
                    lock (_pushIds)
                    {
                        _pushIds.Add(id);
                        _pushesAccepted[deviceId] = _pushesAccepted.GetValueOrDefault(deviceId) + 1;
                    }

                    return;
                }
            }

            Interlocked.Increment(ref _pushesRefused);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // The push API is down (the gateway restarts): the backend would retry later; the push was never accepted.
            Interlocked.Increment(ref _pushesRefused);
        }
    }

    private async Task WaitForPushesAsync(LabClient[] clients, CancellationToken cancellationToken)
    {
        var until = Stopwatch.StartNew();
        while (until.Elapsed < TimeSpan.FromSeconds(30))
        {
            bool all;
            lock (_pushIds)
                all = clients.All(c => _pushIds.Where(id => id.StartsWith(c.DeviceId + "#", StringComparison.Ordinal)).All(c.PushesReceived.ContainsKey));
            if (all)
                return;
            // The naive app reconnects only to call: a naive device whose link is gone stays gone, as it would.
            await Task.Delay(250, cancellationToken);
        }
    }

    private string? Validate(GatewayNode gateway, MockBackend backend, LabClient[] clients, int scheduled)
    {
        if (gateway.UnexpectedExits > 0)
            return $"the gateway exited unexpectedly ({string.Join(" | ", gateway.OutputTail.TakeLast(3))})";
        if (!gateway.IsRunning)
            return "the gateway was not running at the end";
        if (scheduled == 0 || clients.Any(c => c.Calls.Count != scheduled))
            return $"calls scheduled {scheduled}, recorded {string.Join("/", clients.Select(c => c.Calls.Count))}";
        if (backend.Requests == 0)
            return "the backend received no request";
        if (scenario.PushInterval > 0 && clients.Any(c => _pushesAccepted.GetValueOrDefault(c.DeviceId) == 0))
            return $"no push was accepted for a device ({_pushesRefused} refused)";
        return null;
    }

    private ClientResult Measure(LabClient client, MockBackend backend)
    {
        var calls = client.Calls.OrderBy(c => c.IssuedAt).ToList();
        var ok = calls.Where(c => c.Ok).Select(c => c.Latency * 1000).Order().ToList();
        var accepted = _pushIds.Where(id => id.StartsWith(client.DeviceId + "#", StringComparison.Ordinal)).ToList();
        double? detect = null, detectAfterSend = null, late = null, recover = null;
        var outageCalls = 0;
        var outageAnswered = 0;
        int alive = 0, aliveIn5s = 0, expired = 0, expiredOnTime = 0;
        var deadline = (client.Kind == ClientKind.Sdk ? LabClient.SdkDeadline : LabClient.NaiveTimeout).TotalSeconds;
        foreach (var (start, end) in _outages)
        {
            var drop = client.Disconnects.Where(t => t >= start && t <= end + 60).Order().FirstOrDefault(double.NaN);
            if (!double.IsNaN(drop))
            {
                detect = Math.Max(detect ?? 0, (drop - start) * 1000);
                // The link owes an answer from the first call whose answer had not come when it was dropped (counted from the
                // blackout's start at the earliest: an answer already held in the delay queue still arrives after the rules are in).
                var firstSent = calls.Where(c => c.IssuedAt <= drop && c.DoneAt > drop).Select(c => Math.Max(c.IssuedAt, start)).Order().FirstOrDefault(double.NaN);
                if (!double.IsNaN(firstSent))
                    detectAfterSend = Math.Max(detectAfterSend ?? 0, (drop - firstSent) * 1000);
            }

            foreach (var call in calls.Where(c => c.IssuedAt >= start && c.IssuedAt < end))
            {
                outageCalls++;
                outageAnswered += call.Ok ? 1 : 0;
                late = Math.Max(late ?? 0, (call.DoneAt - end) * 1000); // 0: all had ended (answered or failed) by the time the path was back
                if (call.IssuedAt + deadline > end)
                {
                    alive++;
                    if (call.Ok && call.DoneAt - end <= 5)
                        aliveIn5s++;
                    else
                        Log($"{client.DeviceId} call {call.Index} issued {call.IssuedAt:0.00} s in the outage, deadline {(call.IssuedAt + deadline - end) * 1000:0} ms after the return, not answered within 5 s ({call.Error})");
                }
                else
                {
                    expired++;
                    expiredOnTime += call.DoneAt <= call.IssuedAt + deadline + 0.5 ? 1 : 0;
                }
            }
        }

        foreach (var back in _returns)
        {
            var first = calls.Where(c => c.Ok && c.IssuedAt >= back).Select(c => c.DoneAt).Order().FirstOrDefault(double.NaN);
            recover = Math.Max(recover ?? 0, double.IsNaN(first) ? (_clock.Elapsed.TotalSeconds - back) * 1000 : (first - back) * 1000);
        }

        return new ClientResult
        {
            Client = client.Kind == ClientKind.Sdk ? "sdk" : "naive",
            Calls = calls.Count,
            Succeeded = ok.Count,
            P50Ms = Percentile(ok, 0.50),
            P99Ms = Percentile(ok, 0.99),
            MaxMs = ok.Count == 0 ? null : Math.Round(ok[^1]),
            DuplicateSideEffects = backend.Duplicates(client.DeviceId + "/"),
            PushesAccepted = accepted.Count,
            PushesLost = accepted.Count(id => !client.PushesReceived.ContainsKey(id)),
            PushesDuplicated = client.PushesReceived.Values.Sum(n => n - 1),
            BytesSent = client.Client.BytesSent,
            Heartbeats = client.Transports.PingsSent,
            Connects = client.Transports.Connects,
            FallbackCalls = calls.Count(c => c.Transport == "http"),
            DetectMs = detect is { } d ? Math.Round(d) : null,
            LateMs = late is { } l ? Math.Round(l) : null,
            RecoverMs = recover is { } r ? Math.Round(r) : null,
            OutageCalls = outageCalls,
            OutageAnswered = outageAnswered,
            OutageAliveCalls = alive,
            OutageAliveAnsweredIn5s = aliveIn5s,
            OutageExpiredCalls = expired,
            OutageExpiredOnTime = expiredOnTime,
            DetectAfterSendMs = detectAfterSend is { } ds ? Math.Round(ds) : null,
            HeartbeatIntervalS = client.Client.HeartbeatInterval.TotalSeconds,
            HeartbeatSteps = string.Join(' ', _heartbeatSteps.Where(h => h.Device == client.DeviceId).Select(h => h.Step)),
        };
    }

    private static double? Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? null : Math.Round(sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)]);

    private async Task WaitUntilAsync(double at, CancellationToken cancellationToken)
    {
        var wait = TimeSpan.FromSeconds(at) - _clock.Elapsed;
        if (wait > TimeSpan.Zero)
            await Task.Delay(wait, cancellationToken);
    }

    private void Log(string message) => Console.Error.WriteLine($"[{scenario.Name}] {message}");
}
