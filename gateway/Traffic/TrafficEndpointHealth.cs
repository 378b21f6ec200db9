using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// Which backend endpoints of the table get calls: an endpoint whose calls failed (5xx, unreachable, timed out)
/// <c>Traffic:OutlierConsecutiveFailures</c> times in a row is ejected for <c>Traffic:OutlierEjectionTime</c>, and one
/// whose health check (<see cref="TrafficHealthChecker"/>) failed <c>Traffic:HealthCheckFailures</c> times in a row gets
/// none until a check passes. A pick never comes back empty: when no endpoint of a group is available, any of them is
/// tried (a group is never switched off by its own checks). Picking allocates nothing; the clock is the injected one.
/// </summary>
internal sealed class TrafficEndpointHealth(IOptions<TrafficOptions> options, TrafficMetrics metrics, TimeProvider time, ILogger<TrafficEndpointHealth> logger)
{
    private readonly ConcurrentDictionary<string, State> _states = new(StringComparer.Ordinal);

    /// <summary>An endpoint of <paramref name="endpoints"/> chosen at random among the available ones.</summary>
    public string Pick(string[] endpoints)
    {
        if (endpoints.Length == 1)
        {
            return endpoints[0];
        }

        var start = Random.Shared.Next(endpoints.Length);
        if (_states.IsEmpty)
        {
            return endpoints[start];
        }

        var now = time.GetTimestamp();
        for (var i = 0; i < endpoints.Length; i++)
        {
            var endpoint = endpoints[(start + i) % endpoints.Length];
            if (IsAvailable(endpoint, now))
            {
                return endpoint;
            }
        }

        return endpoints[start];
    }

    /// <summary>Another endpoint of <paramref name="endpoints"/> than <paramref name="tried"/>, available if one is; null when the group has no other.</summary>
    public string? PickOther(string[] endpoints, string tried)
    {
        var start = Random.Shared.Next(endpoints.Length);
        var now = time.GetTimestamp();
        string? other = null;
        for (var i = 0; i < endpoints.Length; i++)
        {
            var endpoint = endpoints[(start + i) % endpoints.Length];
            if (endpoint == tried)
            {
                continue;
            }

            if (IsAvailable(endpoint, now))
            {
                return endpoint;
            }

            other ??= endpoint;
        }

        return other;
    }

    /// <summary>Whether <paramref name="endpoint"/> gets calls now (neither ejected nor failing its health checks).</summary>
    public bool IsAvailable(string endpoint) => IsAvailable(endpoint, time.GetTimestamp());

    /// <summary>The outcome of a call to <paramref name="endpoint"/>: a 5xx (the backend's, or the gateway's 502/504 for an unreachable or late one) counts against it.</summary>
    public void RecordCall(string endpoint, int status)
    {
        var failed = status >= 500;
        if (!failed && !_states.ContainsKey(endpoint))
        {
            return;
        }

        var state = _states.GetOrAdd(endpoint, static _ => new State());
        lock (state)
        {
            if (!failed)
            {
                state.CallFailures = 0;
                return;
            }

            var now = time.GetTimestamp();
            if (state.EjectedAt != 0 && time.GetElapsedTime(state.EjectedAt, now) < options.Value.OutlierEjectionTime)
            {
                // Already out (a call picked it while every endpoint of its group was out).
                return;
            }

            state.EjectedAt = 0;
            if (++state.CallFailures >= options.Value.OutlierConsecutiveFailures)
            {
                state.CallFailures = 0;
                state.EjectedAt = now == 0 ? 1 : now;
                metrics.Ejections.Add(1, TrafficMetrics.Tag("reason", "outlier"));
                TrafficLog.EndpointEjected(logger, endpoint, options.Value.OutlierConsecutiveFailures, options.Value.OutlierEjectionTime);
            }
        }
    }

    /// <summary>The outcome of a health check of <paramref name="endpoint"/>.</summary>
    public void RecordCheck(string endpoint, bool passed)
    {
        var state = _states.GetOrAdd(endpoint, static _ => new State());
        lock (state)
        {
            if (passed)
            {
                state.CheckFailures = 0;
                if (state.Unhealthy)
                {
                    state.Unhealthy = false;
                    TrafficLog.EndpointHealthy(logger, endpoint);
                }

                return;
            }

            if (++state.CheckFailures >= options.Value.HealthCheckFailures && !state.Unhealthy)
            {
                state.Unhealthy = true;
                metrics.Ejections.Add(1, TrafficMetrics.Tag("reason", "health_check"));
                TrafficLog.EndpointUnhealthy(logger, endpoint, state.CheckFailures);
            }
        }
    }

    /// <summary>Forgets endpoints no table in force has any more (their state would otherwise stay for the life of the process).</summary>
    public void Retain(IReadOnlySet<string> endpoints)
    {
        foreach (var endpoint in _states.Keys)
        {
            if (!endpoints.Contains(endpoint))
            {
                _states.TryRemove(endpoint, out _);
            }
        }
    }

    private bool IsAvailable(string endpoint, long now)
    {
        if (!_states.TryGetValue(endpoint, out var state))
        {
            return true;
        }

        var ejectedAt = Volatile.Read(ref state.EjectedAt);
        return !Volatile.Read(ref state.Unhealthy)
            && (ejectedAt == 0 || time.GetElapsedTime(ejectedAt, now) >= options.Value.OutlierEjectionTime);
    }

    private sealed class State
    {
        public int CallFailures;
        public int CheckFailures;
        public long EjectedAt;
        public bool Unhealthy;
    }
}
