using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions;
using AccessLayer.Sessions.Routing;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Options;

namespace AccessLayer.Benchmarks.Sessions;

/// <summary>
/// Route-table cost with 100,000 subscriptions shaped like a device fleet: 100 tenants x 990
/// devices each subscribed to its own <c>tenant/{t}/device/{id}/cmd/#</c>, per-tenant backends on
/// <c>tenant/{t}/device/+/telemetry</c> and monitors on <c>tenant/{t}/#</c>, a 50-member shared
/// ingest group, a global <c>#</c> auditor, and exact telemetry subscriptions to fill up.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class TopicTrieBenchmarks
{
    private const int Tenants = 100;
    private const int DevicesPerTenant = 990;
    private const int TotalSubscriptions = 100_000;

    private readonly SubscriberMatches _result = new();
    private readonly string[] _churnFilters = new string[1024];
    private (string Filter, string ClientId)[] _all = [];
    private InMemorySubscriptionRouter _router = null!;
    private int _churn;

    [GlobalSetup]
    public void Setup()
    {
        _router = new InMemorySubscriptionRouter(Options.Create(new SessionsOptions()));
        var all = new List<(string, string)>(TotalSubscriptions);
        var qos1 = new SubscriptionOptions(MqttQualityOfService.AtLeastOnce);
        void Add(string filter, string client, SubscriptionOptions options)
        {
            ValueTask<bool> added = _router.SubscribeAsync(client, filter, options);
            if (!added.IsCompletedSuccessfully || !added.Result)
            {
                throw new InvalidOperationException($"duplicate {client} {filter}");
            }

            all.Add((filter, client));
        }

        for (int t = 0; t < Tenants; t++)
        {
            for (int d = 0; d < DevicesPerTenant; d++)
            {
                Add($"tenant/{t}/device/{d}/cmd/#", $"dev-{t}-{d}", qos1);
            }

            Add($"tenant/{t}/device/+/telemetry", $"backend-{t}", qos1 with { SubscriptionIdentifier = 1 });
            Add($"tenant/{t}/#", $"monitor-{t}", new SubscriptionOptions(MqttQualityOfService.AtMostOnce));
        }

        for (int w = 0; w < 50; w++)
        {
            Add("$share/ingest/tenant/+/device/+/telemetry", $"ingest-{w}", qos1);
        }

        Add("#", "auditor", new SubscriptionOptions(MqttQualityOfService.AtMostOnce));
        for (int i = 0; all.Count < TotalSubscriptions; i++)
        {
            Add($"tenant/{i % Tenants}/device/{i / Tenants}/telemetry", $"dash-{i}", qos1);
        }

        _all = [.. all];
        for (int i = 0; i < _churnFilters.Length; i++)
        {
            _churnFilters[i] = $"tenant/{i % Tenants}/device/new-{i}/cmd/#";
        }

        if (_router.Count != TotalSubscriptions)
        {
            throw new InvalidOperationException($"expected {TotalSubscriptions} subscriptions, have {_router.Count}");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _router.Dispose();

    /// <summary>Device uplink: per-tenant backend + monitor, one shared ingest member, the auditor, one exact dashboard.</summary>
    [Benchmark(Baseline = true)]
    public async ValueTask<int> MatchTelemetry()
    {
        await _router.MatchAsync("tenant/42/device/4/telemetry", "dev-42-4", _result);
        return _result.Count;
    }

    /// <summary>Downlink to one device: its own cmd/#, the tenant monitor, the auditor.</summary>
    [Benchmark]
    public async ValueTask<int> MatchCommand()
    {
        await _router.MatchAsync("tenant/42/device/420/cmd/reboot", null, _result);
        return _result.Count;
    }

    /// <summary>A topic only the global '#' sees.</summary>
    [Benchmark]
    public async ValueTask<int> MatchUnrouted()
    {
        await _router.MatchAsync("elsewhere/x/y/z", null, _result);
        return _result.Count;
    }

    /// <summary>A new device subscribes and unsubscribes (path created, then pruned), with 100,000 routes present.</summary>
    [Benchmark]
    public async ValueTask<bool> SubscribeThenUnsubscribeNewDevice()
    {
        string filter = _churnFilters[_churn++ & (_churnFilters.Length - 1)];
        await _router.SubscribeAsync("newcomer", filter, new SubscriptionOptions(MqttQualityOfService.AtLeastOnce));
        return await _router.UnsubscribeAsync("newcomer", filter);
    }

    /// <summary>Resubscribing an existing filter (options replaced in place, no new nodes).</summary>
    [Benchmark]
    public async ValueTask<bool> ResubscribeExisting()
    {
        return await _router.SubscribeAsync("dev-42-420", "tenant/42/device/420/cmd/#", new SubscriptionOptions(MqttQualityOfService.ExactlyOnce));
    }

    /// <summary>What the trie replaces: testing every one of the 100,000 filters against the topic.</summary>
    [Benchmark]
    public int LinearScanTelemetry()
    {
        int hits = 0;
        foreach ((string filter, string _) in _all)
        {
            if (LinearMatches(filter, "tenant/42/device/4/telemetry"))
            {
                hits++;
            }
        }

        return hits;
    }

    private static bool LinearMatches(string filter, string topic)
    {
        ReadOnlySpan<char> f = filter.StartsWith("$share/", StringComparison.Ordinal) ? filter.AsSpan(filter.IndexOf('/', 7) + 1) : filter;
        ReadOnlySpan<char> t = topic;
        while (true)
        {
            int fs = f.IndexOf('/');
            ReadOnlySpan<char> fl = fs < 0 ? f : f[..fs];
            if (fl is "#")
            {
                return true;
            }

            int ts = t.IndexOf('/');
            ReadOnlySpan<char> tl = ts < 0 ? t : t[..ts];
            if (fl is not "+" && !fl.SequenceEqual(tl))
            {
                return false;
            }

            if (fs < 0 || ts < 0)
            {
                return fs < 0 && ts < 0;
            }

            f = f[(fs + 1)..];
            t = t[(ts + 1)..];
        }
    }
}
