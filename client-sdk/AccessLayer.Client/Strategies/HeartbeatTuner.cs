using AccessLayer.Protocol.Mlp.Envelopes;

namespace AccessLayer.Client.Strategies;

/// <summary>
/// The smart heartbeat (docs/protocol.md §11, docs/sdk.md): finds the longest idle interval the path's
/// NAT or firewall keeps a link alive. Starts at the server's <c>interval_ms</c>; after
/// <c>probe_success_count</c> beats answered in a row it tries <c>probe_step_ms</c> more, or, once an
/// interval has failed, halfway between the longest that worked and the shortest that failed. A failed
/// beat steps back to the last interval that worked (or a step down when none did); when the two are
/// within <see cref="MlpWeakNetworkOptions.HeartbeatProbeResolution"/> it holds. A failure at the interval that worked,
/// below one that failed, is the path's limit showing itself: one resolution lower, then hold; a second failure there is a
/// changed path. Always within the server's [min, max]. What it learned is kept per network (type and id from the app).
/// Thread-safe.
/// </summary>
internal sealed class HeartbeatTuner(MlpWeakNetworkOptions options)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, State> _networks = new(StringComparer.Ordinal);
    private Policy _policy = Policy.Default;
    private string _network = string.Empty;
    private State? _state;

    /// <summary>The interval to beat at now.</summary>
    public TimeSpan Interval
    {
        get
        {
            lock (_lock)
                return _state?.Current ?? _policy.Start;
        }
    }

    /// <summary>True once probing has converged (or reached the server's maximum) on the current network.</summary>
    public bool Holding
    {
        get
        {
            lock (_lock)
                return _state?.Holding ?? false;
        }
    }

    /// <summary>A WELCOME's policy; what was learned for the current network is kept within the new bounds.</summary>
    public void Apply(HeartbeatPolicy? policy)
    {
        lock (_lock)
        {
            _policy = Policy.From(policy);
            _state = Current();
            _state.Current = _policy.Clamp(_state.Current);
            if (_state.Good is { } good)
                _state.Good = _policy.Clamp(good);
            if (_state.Current >= _policy.Max)
                _state.Holding = true;
        }
    }

    /// <summary>The device moved to another network: its own learned interval applies (or a fresh start).</summary>
    public void SwitchNetwork(string networkKey)
    {
        lock (_lock)
        {
            _network = networkKey;
            _state = Current();
            _state.Current = _policy.Clamp(_state.Current);
        }
    }

    /// <summary>A beat after a full idle interval got its PONG in time.</summary>
    public void OnBeatAnswered()
    {
        lock (_lock)
        {
            var state = _state ??= Current();
            if (!options.SmartHeartbeat || state.Holding || ++state.Successes < _policy.ProbeSuccessCount)
                return;
            state.Successes = 0;
            state.Good = state.Current;
            state.Retreated = false;
            if (state.Current >= _policy.Max)
            {
                state.Holding = true;
                return;
            }

            if (state.Failed is { } failed)
            {
                if (failed - state.Current <= options.HeartbeatProbeResolution)
                {
                    state.Holding = true;
                    return;
                }

                state.Current = _policy.Clamp(state.Current + (failed - state.Current) / 2);
            }
            else
            {
                state.Current = _policy.Clamp(state.Current + _policy.Step);
            }
        }
    }

    /// <summary>A beat got no PONG: the path forgot the link at this interval (or the network broke).</summary>
    public void OnBeatFailed()
    {
        lock (_lock)
        {
            var state = _state ??= Current();
            if (!options.SmartHeartbeat)
                return;
            state.Successes = 0;
            if (state.Good is { } good && good < state.Current)
            {
                state.Failed = state.Failed is { } f && f < state.Current ? f : state.Current;
                state.Current = good;
                state.Holding = state.Failed - good <= options.HeartbeatProbeResolution;
                return;
            }

            if (state.Failed is { } above && above > state.Current && !state.Retreated)
            {
                // Failed at an interval believed good, below one that failed: the path's limit is this interval itself (a NAT that
                // counts idle time from the last packet passes a beat at its exact limit sometimes). One resolution lower, keeping
                // the search's bounds; a failure there too says the path changed (below).
                state.Failed = state.Current;
                state.Good = null;
                state.Holding = false;
                state.Retreated = true;
                state.Current = _policy.Clamp(state.Current - options.HeartbeatProbeResolution);
                return;
            }

            // Failed at an interval believed good (or with none known): the path changed; step down and probe again.
            state.Retreated = false;
            state.Failed = state.Current;
            state.Good = null;
            state.Holding = false;
            state.Current = _policy.Clamp(state.Current - _policy.Step);
            if (state.Current <= _policy.Min)
                state.Holding = state.Failed <= _policy.Min;
        }
    }

    /// <summary>
    /// Whether a link that heard nothing for <paramref name="idle"/> must be checked before a call goes on it: idle longer than
    /// the longest idle period this network has proven to survive, and than <paramref name="floor"/>.
    /// </summary>
    public bool NeedsIdleCheck(TimeSpan idle, TimeSpan floor)
    {
        lock (_lock)
        {
            var proven = (_state ??= Current()).ProvenIdle;
            return idle > (proven > floor ? proven : floor);
        }
    }

    /// <summary>A round trip started after the link had heard nothing for <paramref name="idle"/> came back: the path keeps that long.</summary>
    public void OnIdleSurvived(TimeSpan idle)
    {
        lock (_lock)
        {
            var state = _state ??= Current();
            if (idle > state.ProvenIdle)
                state.ProvenIdle = idle;
        }
    }

    /// <summary>A link idle for <paramref name="idle"/> was found dead: what was proven up to that no longer holds on this network.</summary>
    public void OnIdleDied(TimeSpan idle)
    {
        lock (_lock)
        {
            var state = _state ??= Current();
            if (state.ProvenIdle >= idle)
                state.ProvenIdle = TimeSpan.Zero;
        }
    }

    private State Current()
    {
        if (!_networks.TryGetValue(_network, out var state))
            _networks[_network] = state = new State { Current = _policy.Start };
        return state;
    }

    private sealed class State
    {
        public TimeSpan Current { get; set; }

        public TimeSpan? Good { get; set; }

        public TimeSpan? Failed { get; set; }

        public int Successes { get; set; }

        public bool Holding { get; set; }

        /// <summary>The last failure was at an interval believed good, just below one that failed: the tuner stepped one resolution down.</summary>
        public bool Retreated { get; set; }

        /// <summary>The longest time without incoming bytes after which a round trip still came back (idle link check).</summary>
        public TimeSpan ProvenIdle { get; set; }
    }

    private sealed record Policy(TimeSpan Start, TimeSpan Min, TimeSpan Max, TimeSpan Step, int ProbeSuccessCount)
    {
        /// <summary>docs/protocol.md §11's defaults, for a WELCOME without a policy.</summary>
        public static readonly Policy Default = new(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(300), TimeSpan.FromSeconds(30), 3);

        public static Policy From(HeartbeatPolicy? policy)
        {
            if (policy is null)
                return Default;
            var min = policy.MinIntervalMs > 0 ? TimeSpan.FromMilliseconds(policy.MinIntervalMs) : Default.Min;
            var max = policy.MaxIntervalMs > 0 ? TimeSpan.FromMilliseconds(policy.MaxIntervalMs) : Default.Max;
            if (max < min)
                max = min;
            var start = policy.IntervalMs > 0 ? TimeSpan.FromMilliseconds(policy.IntervalMs) : Default.Start;
            start = start < min ? min : start > max ? max : start;
            var step = policy.ProbeStepMs > 0 ? TimeSpan.FromMilliseconds(policy.ProbeStepMs) : Default.Step;
            var count = policy.ProbeSuccessCount > 0 ? (int)policy.ProbeSuccessCount : Default.ProbeSuccessCount;
            return new Policy(start, min, max, step, count);
        }

        public TimeSpan Clamp(TimeSpan value) => value < Min ? Min : value > Max ? Max : value;
    }
}
