using AccessLayer.Client.Strategies;

namespace AccessLayer.Client.Internal;

/// <summary>
/// Hedging (docs/sdk.md "Retries and hedging"): when an idempotent call on the long link is unanswered once its expected
/// latency has passed, a second copy goes on the secondary link (or, without one, over the HTTP fallback), paid from the
/// retry budget; the first answer wins and the other copy is abandoned. The budget's share and the hedge delay follow the
/// path: <see cref="MlpWeakNetworkOptions.RetryBudgetRatio"/> normally, <see cref="MlpWeakNetworkOptions.WeakRetryBudgetRatio"/>
/// on a lossy path, and the delay is just past the calls that lost nothing (median + 4 × MAD of recent first copies, at least
/// 1.2 × the median and <see cref="MlpWeakNetworkOptions.HedgeMinDelay"/>). While the session's link has a
/// call overdue by that delay (a lost segment holds up its TCP stream), a hedgeable call's first copy goes on the secondary link.
/// </summary>
internal sealed class MlpHedger(MlpClient client, MlpCallRouter router)
{
    /// <summary>No hedge before the first copy has been slower than this many times the median: a merely jittery call's answer is about to come.</summary>
    private const double MedianFloor = 1.2;

    /// <summary>
    /// While the window holds fewer answered calls than this, the path is not known yet (docs/sdk.md "The start of a link"): one call that
    /// waited for a retransmission would be half its median.
    /// </summary>
    public const int ColdSamples = 8;

    /// <summary>Before the path is known, the hedge waits this many times the smallest round trip measured (the handshake's at first).</summary>
    public const double ColdRttMultiplier = 1.5;

    /// <summary>
    /// The session link's stream counts as stalled while a copy on it has been unanswered for this many times the fallback hedge's delay
    /// (docs/sdk.md "A stalled session link"): past a repair by selective acknowledgement and a first retransmission timeout (about
    /// 1.0-1.4 s at 400 ms RTT), so it waits for a retransmission that was lost again. At twice the delay (about 1 s) it fired for
    /// 20-26 % of the lab's lossy calls and its copies took the retry budget the hedges of the calls that lost both copies need.
    /// </summary>
    public const double StalledAfter = 3;

    private readonly MlpWeakNetworkOptions _weak = client.Options.WeakNetwork;
    private readonly TimeProvider _time = client.Options.TimeProvider;
    private long _hedges;
    private long _onLink;
    private long _firstOnLink;
    private long _duplicated;
    private long _pastStalled;

    /// <summary>How long calls sent on both links took (the first answer): what the fallback hedge of such a call waits for.</summary>
    private readonly CallLatencyWindow _duplicatedLatency = new();
    private volatile bool _lossy;

    public long Hedges => Interlocked.Read(ref _hedges);

    /// <summary>Hedges that went on the secondary link (the rest went over the HTTP fallback).</summary>
    public long HedgesOnLink => Interlocked.Read(ref _onLink);

    /// <summary>Calls whose first copy went on the secondary link because the session's link had a call overdue.</summary>
    public long FirstCopiesOnLink => Interlocked.Read(ref _firstOnLink);

    /// <summary>Calls sent on the session link and the secondary link at once (<see cref="MlpWeakNetworkOptions.DuplicateOnLossyPath"/>).</summary>
    public long Duplicated => Interlocked.Read(ref _duplicated);

    /// <summary>Of <see cref="Duplicated"/>, those whose fallback copy went out at once because the session link's stream was stalled.</summary>
    public long PastStalledLink => Interlocked.Read(ref _pastStalled);

    /// <summary>
    /// Whether a resendable call made now carries an <c>mlp-call-id</c> (docs/protocol.md §6.1): the session link's gateway coalesces
    /// copies, and copies are likely (a path that is not Good); elsewhere the header would only cost bytes.
    /// </summary>
    public bool WantsCallId() =>
        _weak.DuplicateOnLossyPath && (_weak.Hedging || _weak.Retries) && client.CurrentLink is { ServerCoalescesCopies: true }
        && (PathIsLossy || client.Rtt.Smoothed >= _weak.GoodRtt);

    /// <summary>
    /// Whether the path loses packets: Weak or Offline, or at least <see cref="MlpWeakNetworkOptions.WeakLossRate"/> of recent calls took
    /// over twice the median and 200 ms more; once lossy, until that share is below half of it (hedges that answer the slow calls
    /// make the share waver around the threshold, and the budget with it).
    /// </summary>
    public bool PathIsLossy => RetransmittedShare() > 0 || client.Quality is NetworkQuality.Weak or NetworkQuality.Offline;

    /// <summary>
    /// While the recent calls say the path loses segments (the slow share of <see cref="PathIsLossy"/>, with its hysteresis), that share:
    /// about how many round trips wait for a TCP retransmission; 0 otherwise (the quality alone does not count: a high RTT is no loss).
    /// </summary>
    public double RetransmittedShare()
    {
        var share = router.CallLatency.SlowShare();
        var lossy = share >= _weak.WeakLossRate || (_lossy && share >= _weak.WeakLossRate / 2);
        _lossy = lossy;
        return lossy ? share : 0;
    }

    /// <summary>The retry budget's share for a call made now.</summary>
    public double BudgetRatio => PathIsLossy ? Math.Max(_weak.WeakRetryBudgetRatio, _weak.RetryBudgetRatio) : _weak.RetryBudgetRatio;

    /// <summary>
    /// How long a call waits before its hedge; null before the first answered call on a Good path (on one that is not, see
    /// <see cref="ColdDelay"/>). On a path that is not Good (SRTT at or above <see cref="MlpWeakNetworkOptions.GoodRtt"/>) the hedge's way
    /// is made ready ahead: the secondary link is opened, or else the fallback's connection warmed.
    /// </summary>
    public TimeSpan? Delay(bool hasFallback)
    {
        if (ExpectedDelay() is not { } delay)
            return null;
        MakeReady(hasFallback);
        return delay;
    }

    /// <summary>
    /// The session's link is up (its WELCOME in): when its handshake already says the path is not Good, the hedge's ways are made ready
    /// now, not at the first call (docs/sdk.md "The start of a link"): a secondary link takes two round trips to open, and the calls made
    /// before it is open have only the fallback.
    /// </summary>
    public void OnLinkUp()
    {
        if (_weak.Hedging && client.Rtt.HasSample)
            MakeReady(router.HasFallback);
    }

    private void MakeReady(bool hasFallback)
    {
        if (client.Rtt.Smoothed < _weak.GoodRtt)
            return;
        if (_weak.HedgeLink && client.CurrentLink is { IsOpen: true } primary)
            client.Secondary.Ensure(primary);
        // With copies on both links (a lossy path, a coalescing gateway), the hedge is the fallback's: it is kept warm too.
        if (hasFallback && (client.Secondary.Current is null || (_weak.DuplicateOnLossyPath && client.CurrentLink is { ServerCoalescesCopies: true } && MayBeLossy)))
            router.KeepFallbackWarm();
    }

    /// <summary>
    /// Whether the path is not known yet: not Good (SRTT at or above <see cref="MlpWeakNetworkOptions.GoodRtt"/>) and fewer than
    /// <see cref="ColdSamples"/> calls answered. Such a path is treated as one that may lose segments: calls go on both links, and hedge
    /// from <see cref="ColdDelay"/> (docs/sdk.md "The start of a link").
    /// </summary>
    public bool Unclassified => router.CallLatency.Count < ColdSamples && client.Rtt.HasSample && client.Rtt.Smoothed >= _weak.GoodRtt;

    /// <summary>Lossy (<see cref="PathIsLossy"/>), or not known yet (<see cref="Unclassified"/>): what sends a call on both links at once.</summary>
    public bool MayBeLossy => PathIsLossy || Unclassified;

    /// <summary>
    /// While the path is <see cref="Unclassified"/>: <see cref="ColdRttMultiplier"/> × the smallest round trip measured (at first the
    /// handshake's HELLO/WELCOME), at least <see cref="MlpWeakNetworkOptions.HedgeMinDelay"/> and 1.2 × the fastest call answered so far
    /// (a call takes the backend's time too: a slow backend is not hedged for it); null otherwise. A call that lost nothing takes about
    /// one round trip; one that lost a segment on a fresh connection waits for a retransmission timeout of about three (the kernel's
    /// first RTO is SRTT + 4 × RTTVAR with RTTVAR = SRTT / 2), so the hedge must not wait for the window's median, which one such call
    /// makes.
    /// </summary>
    public TimeSpan? ColdDelay()
    {
        if (!Unclassified)
            return null;
        var delay = client.Rtt.Minimum * ColdRttMultiplier;
        if (router.CallLatency.Quantile(0) is { } fastest && fastest * MedianFloor > delay)
            delay = fastest * MedianFloor;
        return delay > _weak.HedgeMinDelay ? delay : _weak.HedgeMinDelay;
    }

    /// <summary>
    /// Just past the calls that lost nothing: the median + 4 × the median absolute deviation of recent first copies, at least 1.2 × the
    /// median and <see cref="MlpWeakNetworkOptions.HedgeMinDelay"/>; null before the first answered call. Not a high quantile: on a lossy
    /// path a third of the first copies may wait for a retransmission, and then even the 70th percentile is one of them.
    /// </summary>
    /// <remarks>
    /// Once calls went on both links (<see cref="MlpWeakNetworkOptions.DuplicateOnLossyPath"/>), the earlier of that and the same from
    /// their first answers: the session link's copies are timed even when abandoned, and while its stream stalls behind a lost
    /// retransmission their median can sit at seconds for half a minute (the lab's lossy path), which would put a call that cannot be
    /// sent on both links (its secondary suspect) past the point where a hedge helps.
    /// </remarks>
    public TimeSpan? ExpectedDelay()
    {
        var fromLink = ExpectedDelay(MedianFloor);
        var delay = ExpectedDelay(_duplicatedLatency, MedianFloor) is { } fromCopies && (fromLink is null || fromCopies < fromLink) ? fromCopies : fromLink;
        return ColdDelay() is { } cold && (delay is null || cold < delay) ? cold : delay;
    }

    /// <summary>
    /// <see cref="ExpectedDelay()"/> with the median floor at <paramref name="medianFloor"/> × the median: with copies on two links a call
    /// still unanswered just past the median + 4 × MAD has lost a segment on both, so its hedge waits for no jitter allowance.
    /// </summary>
    private TimeSpan? ExpectedDelay(double medianFloor) => ExpectedDelay(router.CallLatency, medianFloor);

    private TimeSpan? ExpectedDelay(CallLatencyWindow window, double medianFloor)
    {
        if (window.Median() is not { } median || window.MedianAbsoluteDeviation() is not { } spread)
            return null;
        var floor = median * medianFloor;
        var delay = median + (4 * spread);
        delay = delay > floor ? delay : floor;
        return delay > _weak.HedgeMinDelay ? delay : _weak.HedgeMinDelay;
    }

    public async Task<MlpResponse> HedgedAsync(MlpLink link, string service, string operation, ReadOnlyMemory<byte> body, MlpCallOptions options, TimeSpan hedgeDelay, bool hasFallback, CancellationToken cancellationToken)
    {
        // The session's link has a call overdue (likely a lost segment: everything behind it on that TCP stream waits for the
        // retransmission): this call's first copy goes on the secondary link instead, its hedge (if any) over the fallback.
        var firstLink = link;
        if (!link.IsSecondary && client.Secondary.Current is { } spare && link.OldestPendingAge() > hedgeDelay)
        {
            firstLink = spare;
            Interlocked.Increment(ref _firstOnLink);
        }

        if (_weak.DuplicateOnLossyPath && !link.IsSecondary && link.ServerCoalescesCopies && MlpCallId.IsOn(options.Headers)
            && client.Secondary.Current is { IsSuspect: false, ServerCoalescesCopies: true } beside && MayBeLossy)
        {
            return await DuplicatedAsync(link, beside, service, operation, body, options, hedgeDelay, hasFallback, cancellationToken).ConfigureAwait(false);
        }

        using var race = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sent = _time.GetTimestamp();
        var primary = router.OnLinkAsync(firstLink, service, operation, body, options, race.Token);
        var timer = Task.Delay(hedgeDelay, _time, race.Token);
        MlpLink? second = null;
        if (await Task.WhenAny(primary, timer).ConfigureAwait(false) == primary
            || ((second = firstLink.IsSecondary ? null : client.Secondary.Current) is null && !hasFallback)
            || !router.Budget.TryWithdraw())
        {
            // No second copy went out: an RTT sample still (Karn's rule excludes only hedged and resent calls).
            var alone = await primary.ConfigureAwait(false);
            router.SampleRtt(alone);
            return alone;
        }

        Interlocked.Increment(ref _hedges);
        Task<MlpResponse> hedge;
        if (second is not null)
        {
            Interlocked.Increment(ref _onLink);
            hedge = second.CallAsync(service, operation, body, options, race.Token);
        }
        else
        {
            // Left to finish when the first copy wins (see DuplicatedAsync): a cancelled HTTP/1.1 request closes its pooled connection.
            hedge = router.FallbackAsync(service, operation, body, options, cancellationToken);
        }

        List<Task<MlpResponse>> running = [primary, hedge];
        try
        {
            while (true)
            {
                var first = await Task.WhenAny(running).ConfigureAwait(false);
                if (Decides(first, primary, running.Count))
                {
                    if (first == hedge && first.IsCompletedSuccessfully && !primary.IsCompleted)
                    {
                        // The first copy took at least this long: kept as its latency (a lower bound), so the window still sees how many
                        // calls are slow while hedges answer them (else hedging well would hide the loss the budget is sized by).
                        router.CallLatency.Add(_time.GetElapsedTime(sent), censored: true);
                    }

                    var answer = await first.ConfigureAwait(false);
                    answer.Hedged = true;
                    answer.AnsweredByHedge = first == hedge;
                    return answer;
                }

                running.Remove(first);
            }
        }
        finally
        {
            // First answer wins: the other copy is abandoned (its late answer is ignored) and observed.
            await race.CancelAsync().ConfigureAwait(false);
            Observe(primary, hedge);
        }
    }

    /// <summary>
    /// A lossy path and a gateway that coalesces copies (docs/sdk.md "Copies on a lossy path"): the call goes on the session link and the
    /// secondary link at once (both carry its <c>mlp-call-id</c>, so the backend is called once), and once the expected latency has passed
    /// without an answer its hedge goes over the HTTP fallback, paid from the retry budget. With two copies from the start a call waits for
    /// a retransmission only when both lose a segment; the hedge is for those. The session link's copy is timed even when another copy
    /// answers first (<see cref="MlpLinkInbound.Abandon"/>): it is the path's sample for the loss share and the hedge delay.
    /// </summary>
    private async Task<MlpResponse> DuplicatedAsync(MlpLink link, MlpLink beside, string service, string operation, ReadOnlyMemory<byte> body, MlpCallOptions options, TimeSpan hedgeDelay, bool hasFallback, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _duplicated);
        using var race = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sent = _time.GetTimestamp();
        var primary = router.OnLinkAsync(link, service, operation, body, options, race.Token, timeLateAnswer: true);
        var copy = beside.CallAsync(service, operation, body, options, race.Token);
        List<Task<MlpResponse>> running = [primary, copy];
        // The fallback hedge waits just past the calls that had a clean copy: from the first answers of such calls, not from the session
        // link's copies (on a lossy path one TCP stream stalls for seconds behind a lost retransmission, and its answers would then move
        // the hedge past the point where it helps). Before there are any, the tight delay of the session link's copies.
        var fallbackDelay = ExpectedDelay(_duplicatedLatency, 1.0) ?? (ExpectedDelay(1.0) is { } tight && tight < hedgeDelay ? tight : hedgeDelay);
        if (hasFallback && link.OldestUnansweredAge() > fallbackDelay * StalledAfter)
        {
            // The session link's stream is stalled: an earlier copy on it (given up on or not) still waits for a retransmission, and this
            // copy waits behind it (the lab's `ss -ti` of the SDK's sockets showed RTO backoffs to 1.8-3.8 s with requests queued unsent).
            // The call has one useful copy, so its fallback copy goes now, not once the delay has passed.
            fallbackDelay = TimeSpan.Zero;
            Interlocked.Increment(ref _pastStalled);
        }

        Task? timer = hasFallback ? Task.Delay(fallbackDelay, _time, race.Token) : null;
        Task<MlpResponse>? hedge = null;
        try
        {
            while (true)
            {
                var first = timer is null ? await Task.WhenAny(running).ConfigureAwait(false) : await Task.WhenAny([.. running, timer]).ConfigureAwait(false);
                if (first == timer)
                {
                    timer = null;
                    if (router.Budget.TryWithdraw())
                    {
                        Interlocked.Increment(ref _hedges);
                        // Not cancelled when another copy wins: an HTTP/1.1 request cancelled mid-flight closes its connection, and the
                        // next hedge would pay TCP setup on the lossy path; finished, its connection goes back to the pool warm.
                        hedge = router.FallbackAsync(service, operation, body, options, cancellationToken);
                        running.Add(hedge);
                        router.WarmAnotherFallbackConnection();
                    }

                    continue;
                }

                var done = (Task<MlpResponse>)first;
                if (Decides(done, primary, running.Count))
                {
                    var answer = await done.ConfigureAwait(false);
                    answer.Hedged = true;
                    answer.AnsweredByHedge = done != primary;
                    _duplicatedLatency.Add(_time.GetElapsedTime(sent));
                    return answer;
                }

                running.Remove(done);
            }
        }
        finally
        {
            await race.CancelAsync().ConfigureAwait(false);
            Observe(hedge is null ? [primary, copy] : [primary, copy, hedge]);
        }
    }

    /// <summary>
    /// Whether a finished copy ends the race: it answered, or it was the last one running, or it is the session link's copy whose link
    /// died under it (the others may be stuck on the same path: the call goes back to the router to be resent on the fresh link or the
    /// current fallback).
    /// </summary>
    private static bool Decides(Task<MlpResponse> done, Task<MlpResponse> primary, int running) =>
        done.IsCompletedSuccessfully || running == 1 || (done == primary && done.Exception?.InnerException is MlpException { LinkLost: true });

    /// <summary>The copies that lost the race are abandoned (a late answer is ignored) and their failures observed.</summary>
    private static void Observe(params Task[] copies) =>
        _ = Task.WhenAll(copies).ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
