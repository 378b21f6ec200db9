using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Threading.RateLimiting;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Metrics;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Governance;

internal enum Admission
{
    Admitted,
    Draining,
    MaxConnections,
    ListenerFull,
    RateLimited,
}

/// <summary>
/// Admission at accept, before a byte of protocol (or TLS) is spent: the node's connection cap,
/// each listener's cap, the per-IP connect rate, and the drain. Every transport asks here, so
/// the caps count MQTT over TCP, TLS and WebSocket (and other protocols that opt in) together.
/// </summary>
internal sealed class ConnectionGovernor : IDisposable
{
    private readonly LimitsOptions _options;
    private readonly GatewayReadiness _readiness;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<ConnectionGovernor> _logger;
    private readonly PartitionedRateLimiter<IPAddress>? _connectRate;
    private readonly ConcurrentDictionary<string, Counter> _perListener = new(StringComparer.OrdinalIgnoreCase);
    private int _total;

    public ConnectionGovernor(IOptions<LimitsOptions> options, GatewayReadiness readiness, GatewayMetrics metrics, ILogger<ConnectionGovernor> logger)
    {
        _options = options.Value;
        _readiness = readiness;
        _metrics = metrics;
        _logger = logger;
        if (_options.ConnectRatePerIp > 0)
        {
            var rate = _options.ConnectRatePerIp;
            var burst = _options.ConnectBurstPerIp > 0 ? _options.ConnectBurstPerIp : rate;

            var (perPeriod, period) = RefillFor(rate);
            _connectRate = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address => RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = burst,
                TokensPerPeriod = perPeriod,
                ReplenishmentPeriod = period,
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
        }

        metrics.ObserveGauges("gateway.connections", ObserveOpen, "Client connections open now (accepted, any protocol state), by listener.");
    }

    /// <summary>
    /// The token bucket's refill for <paramref name="ratePerSecond"/>: about ten refills a second, so a
    /// burst is spread over the second rather than granted at its start, and exactly the rate (a rate
    /// below 10 refills one token every 1/rate s, not one every 100 ms).
    /// </summary>
    internal static (int Tokens, TimeSpan Period) RefillFor(int ratePerSecond)
    {
        var tokens = Math.Max(1, ratePerSecond / 10);
        return (tokens, TimeSpan.FromTicks(TimeSpan.TicksPerSecond * tokens / ratePerSecond));
    }

    public int ActiveConnections => Volatile.Read(ref _total);

    public int ActiveOn(string listener) => _perListener.TryGetValue(listener, out var counter) ? Volatile.Read(ref counter.Value) : 0;

    /// <summary>Admits a new connection or says why not (and counts and logs the refusal). An admitted one must be <see cref="Release"/>d when it ends.</summary>
    public Admission TryAdmit(string listener, EndPoint? remote)
    {
        var admission = Decide(listener, remote);
        if (admission != Admission.Admitted)
        {
            var reason = admission switch
            {
                Admission.Draining => "draining",
                Admission.MaxConnections => "max_connections",
                Admission.ListenerFull => "listener_full",
                _ => "connect_rate",
            };
            _metrics.ConnectionsRefused.Add(1, new KeyValuePair<string, object?>("reason", reason), new KeyValuePair<string, object?>("listener", listener));
            GovernanceLog.RefusedAtAccept(_logger, remote, listener, reason);
        }

        return admission;
    }

    private Admission Decide(string listener, EndPoint? remote)
    {
        if (!_readiness.IsReady)
        {
            return Admission.Draining;
        }

        if (_connectRate is not null && remote is IPEndPoint ip)
        {
            using var lease = _connectRate.AttemptAcquire(ip.Address);
            if (!lease.IsAcquired)
            {
                return Admission.RateLimited;
            }
        }

        var max = _options.MaxConnections;
        if (Interlocked.Increment(ref _total) > max && max > 0)
        {
            Interlocked.Decrement(ref _total);
            return Admission.MaxConnections;
        }

        var counter = _perListener.GetOrAdd(listener, static _ => new Counter());
        var listenerMax = _options.MaxConnectionsPerListener.TryGetValue(listener, out var m) ? m : 0;
        if (Interlocked.Increment(ref counter.Value) > listenerMax && listenerMax > 0)
        {
            Interlocked.Decrement(ref counter.Value);
            Interlocked.Decrement(ref _total);
            return Admission.ListenerFull;
        }

        return Admission.Admitted;
    }

    public void Release(string listener)
    {
        if (_perListener.TryGetValue(listener, out var counter))
        {
            Interlocked.Decrement(ref counter.Value);
        }

        Interlocked.Decrement(ref _total);
    }

    private IEnumerable<Measurement<long>> ObserveOpen()
    {
        foreach (var (listener, counter) in _perListener)
        {
            yield return new Measurement<long>(Volatile.Read(ref counter.Value), new KeyValuePair<string, object?>("listener", listener));
        }
    }

    public void Dispose() => _connectRate?.Dispose();

    private sealed class Counter
    {
        public int Value;
    }
}
