using AccessLayer.Client.Strategies;
using AccessLayer.Protocol.Mlp.Envelopes;

namespace AccessLayer.Client.Internal;

/// <summary>
/// The PING side of one <see cref="MlpLink"/>: heartbeats at the <see cref="HeartbeatTuner"/>'s interval
/// when nothing else was sent, RTT samples for the quality model, and fake-connection detection — a PING
/// without a PONG within the RTT-derived timeout, or a call that heard nothing that long and then fails
/// such a probe, declares the link dead so the client replaces it at once (docs/sdk.md).
/// </summary>
internal sealed class MlpLinkHeartbeat(MlpLink link, MlpClient client) : IDisposable
{
    private static readonly TimeSpan DefaultPongTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MinRto = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan InitialRto = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time = client.Options.TimeProvider;
    private readonly MlpWeakNetworkOptions _options = client.Options.WeakNetwork;
    private ITimer? _timer;

    private MlpLink Link => link;
    private TaskCompletionSource<TimeSpan>? _ping;
    private long _pingSentTimestamp;
    private int _disposed;

    /// <summary>The wait for a PONG now: max(3×SRTT + 4×RTTVAR, floor), at most the server's pong timeout.</summary>
    public TimeSpan PongTimeout => PongTimeoutFor(retransmissions: 1);

    /// <summary>
    /// The wait for the PONG of a call's probe: on a path whose calls wait for retransmissions, time for two or three of them
    /// (<see cref="RttEstimator.RetransmissionsToAllow"/>): a call still owed there is mostly a lost segment, and its link is alive. Heartbeats
    /// and the idle link check keep <see cref="PongTimeout"/>: they go on an idle link, where a missing PONG is a forgotten flow.
    /// </summary>
    public TimeSpan ProbePongTimeout => PongTimeoutFor(RttEstimator.RetransmissionsToAllow(client.Router.Hedger.RetransmittedShare()));

    private TimeSpan PongTimeoutFor(int retransmissions)
    {
        var serverTimeout = link.Welcome?.Heartbeat is { PongTimeoutMs: > 0 } policy ? TimeSpan.FromMilliseconds(policy.PongTimeoutMs) : DefaultPongTimeout;
        return _options.DeadLinkDetection ? client.Rtt.DeadLinkTimeout(_options.DeadLinkMinTimeout, serverTimeout, retransmissions) : serverTimeout;
    }

    /// <summary>A PING is outstanding for longer than max(SRTT + 4×RTTVAR, 200 ms) (1 s before any sample).</summary>
    public bool Suspect =>
        Volatile.Read(ref _ping) is not null && _time.GetElapsedTime(Volatile.Read(ref _pingSentTimestamp)) > client.Rtt.Rto(MinRto, TimeSpan.MaxValue, InitialRto);

    /// <summary>How long an outstanding call may hear nothing at all before a PING probes the link: SRTT + 4×RTTVAR within [200 ms, the PONG timeout].</summary>
    public TimeSpan SilenceTimeout => client.Rtt.Rto(MinRto, PongTimeout, InitialRto);

    public void Start(Welcome welcome)
    {
        // A secondary link beats at the interval the session's link learned; only that link's beats teach the tuner.
        if (!link.IsSecondary)
            client.HeartbeatTuner.Apply(welcome.Heartbeat);
        if (client.Options.EnableHeartbeat && welcome.Heartbeat is { IntervalMs: > 0 })
            _timer = _time.CreateTimer(static state => ((MlpLinkHeartbeat)state!).OnTimer(), this, client.HeartbeatTuner.Interval, Timeout.InfiniteTimeSpan);
    }

    /// <summary>One PING; its PONG is an RTT sample, its absence kills the link.</summary>
    public Task<TimeSpan> PingAsync(CancellationToken cancellationToken) => PingAsync(beat: false, cancellationToken);

    public void OnPong() => Volatile.Read(ref _ping)?.TrySetResult(_time.GetElapsedTime(Volatile.Read(ref _pingSentTimestamp)));

    /// <summary>
    /// Watches a call just sent: if it is still unanswered and nothing at all arrived on the link for the
    /// <see cref="SilenceTimeout"/>, a PING probes whether the link is alive at once (a slow backend's link still
    /// answers the PING; a dead link does not, and is replaced after the PONG timeout).
    /// </summary>
    public void WatchCall(Task completion)
    {
        if (!_options.DeadLinkDetection || completion.IsCompleted)
            return;
        var watch = new CallWatch(this, completion, _time.GetTimestamp());
        watch.Timer = _time.CreateTimer(static state => ((CallWatch)state!).Fire(), watch, SilenceTimeout, Timeout.InfiniteTimeSpan);
        completion.ContinueWith(static (_, state) => ((CallWatch)state!).Timer?.Dispose(), watch, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public void OnClosed(Exception lost)
    {
        Dispose();
        Volatile.Read(ref _ping)?.TrySetException(lost);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            _timer?.Dispose();
    }

    private void OnTimer()
    {
        if (!link.IsOpen || Volatile.Read(ref _disposed) != 0)
            return;
        var interval = client.HeartbeatTuner.Interval;
        var idle = _time.GetElapsedTime(link.LastSentTimestamp);
        if (idle < interval * 0.9)
        {
            // Something else went out meanwhile: the link was not idle for a whole interval; beat when it is.
            Rearm(interval - idle);
            return;
        }

        _ = BeatAsync();
    }

    /// <summary>
    /// The idle link check (docs/sdk.md): when nothing has come in on the link for longer than the path has proven to keep an
    /// idle flow (and at least <see cref="MlpWeakNetworkOptions.VerifyIdleLinkAfter"/>), a PING goes first and the caller's call
    /// waits for its PONG; none within the PONG timeout: the link is dead (replaced at once) and the call, never sent, goes elsewhere.
    /// </summary>
    public async Task<bool> VerifyIfIdleAsync(CancellationToken cancellationToken)
    {
        if (!_options.DeadLinkDetection || !_options.VerifyIdleLinks)
            return true;
        var idle = _time.GetElapsedTime(link.LastReceivedTimestamp);
        if (!client.HeartbeatTuner.NeedsIdleCheck(idle, _options.VerifyIdleLinkAfter))
            return true;
        try
        {
            await PingAsync(beat: false, cancellationToken).ConfigureAwait(false);
            client.HeartbeatTuner.OnIdleSurvived(idle);
            return true;
        }
        catch (TimeoutException)
        {
            client.HeartbeatTuner.OnIdleDied(idle);
            return false;
        }
        catch (Exception ex) when (ex is MlpException or IOException or InvalidOperationException or ObjectDisposedException)
        {
            return false;
        }
    }

    private async Task BeatAsync()
    {
        var idle = _time.GetElapsedTime(link.LastReceivedTimestamp);
        try
        {
            await PingAsync(beat: true, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or MlpException or IOException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            return;
        }

        if (!link.IsSecondary)
        {
            client.HeartbeatTuner.OnIdleSurvived(idle);
            client.HeartbeatTuner.OnBeatAnswered();
        }

        Rearm(client.HeartbeatTuner.Interval);
        if (!link.IsSecondary)
            client.OnBeat(answered: true);
    }

    private void Rearm(TimeSpan due)
    {
        try
        {
            if (Volatile.Read(ref _disposed) == 0)
                _timer?.Change(due, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task<TimeSpan> PingAsync(bool beat, CancellationToken cancellationToken, bool probe = false)
    {
        var ping = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _ping, ping, null) is { } existing)
            return await existing.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var timeout = probe ? ProbePongTimeout : PongTimeout;
            var now = _time.GetTimestamp();
            Volatile.Write(ref _pingSentTimestamp, now);
            await link.SendPingAsync(now, cancellationToken).ConfigureAwait(false);
            try
            {
                var rtt = await ping.Task.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
                client.QualityModel.OnRttSample(rtt);
                return rtt;
            }
            catch (TimeoutException)
            {
                // Callers that joined this PING (a probe, an idle check) learn it too.
                ping.TrySetException(new TimeoutException($"No PONG within {timeout.TotalMilliseconds:0} ms."));
                client.QualityModel.OnFailure();
                if (beat && !link.IsSecondary)
                    client.HeartbeatTuner.OnBeatFailed();
                link.DeclareDead();
                if (beat && !link.IsSecondary)
                    client.OnBeat(answered: false);
                throw new TimeoutException($"No PONG within {timeout.TotalMilliseconds:0} ms: the link is dead and is being replaced.");
            }
        }
        finally
        {
            Interlocked.CompareExchange(ref _ping, null, ping);
        }
    }

    private sealed class CallWatch(MlpLinkHeartbeat owner, Task completion, long sentTimestamp)
    {
        public ITimer? Timer { get; set; }

        public void Fire()
        {
            if (completion.IsCompleted || !owner.Link.IsOpen)
            {
                Timer?.Dispose();
                return;
            }

            // Silent since the call went out or since the last bytes that came in meanwhile (answers to earlier calls), whichever is later.
            var last = Math.Max(sentTimestamp, owner.Link.LastReceivedTimestamp);
            var rest = owner.SilenceTimeout - owner._time.GetElapsedTime(last);
            if (rest > TimeSpan.Zero)
            {
                try
                {
                    Timer?.Change(rest, Timeout.InfiniteTimeSpan);
                }
                catch (ObjectDisposedException)
                {
                }

                return;
            }

            Timer?.Dispose();
            _ = owner.ProbeAsync();
        }
    }

    private async Task ProbeAsync()
    {
        try
        {
            await PingAsync(beat: false, CancellationToken.None, probe: true).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or MlpException or IOException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }
}
