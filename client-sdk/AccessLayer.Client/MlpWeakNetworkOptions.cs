namespace AccessLayer.Client;

/// <summary>
/// The weak-network strategies of <see cref="MlpClient"/> (docs/sdk.md): each is on by default; the
/// defaults suit a phone. <see cref="Validate"/> runs when the client is created.
/// </summary>
public sealed class MlpWeakNetworkOptions
{
    /// <summary>Smoothed RTT below this (with its variation below half of it) and no loss lately rates the network Good. Default 150 ms.</summary>
    public TimeSpan GoodRtt { get; set; } = TimeSpan.FromMilliseconds(150);

    /// <summary>Smoothed RTT at or above this rates the network Weak. Default 600 ms.</summary>
    public TimeSpan WeakRtt { get; set; } = TimeSpan.FromMilliseconds(600);

    /// <summary>Share of the recent probes and calls that got no answer at or above which the network is Weak. Default 0.1.</summary>
    public double WeakLossRate { get; set; } = 0.1;

    /// <summary>How many recent probe and call outcomes the loss rate is taken over. Default 20.</summary>
    public int LossWindow { get; set; } = 20;

    /// <summary>Consecutive failures (unanswered probes, timed-out calls, failed connects) after which the network is Offline. Default 3.</summary>
    public int OfflineAfterFailures { get; set; } = 3;

    /// <summary>Derive each call's wait from the measured RTT, its variation, the payload size and the quality, within the caller's deadline. Default true.</summary>
    public bool DynamicTimeouts { get; set; } = true;

    /// <summary>What a dynamic call timeout allows the server and its backend on top of the network's share. Default 10 s.</summary>
    public TimeSpan ServerAllowance { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The shortest dynamic connect timeout (the longest is <see cref="MlpClientOptions.ConnectTimeout"/>). Default 2 s.</summary>
    public TimeSpan MinConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Declare a link dead when a PING gets no PONG within max(3×SRTT + 4×RTTVAR, <see cref="DeadLinkMinTimeout"/>)
    /// (at most the server's <c>pong_timeout_ms</c>), and when a call has heard nothing that long, probe with a PING. Default true.
    /// </summary>
    public bool DeadLinkDetection { get; set; } = true;

    /// <summary>The shortest wait for a PONG. Raise it where radios wake slowly after idle (some cellular networks). Default 750 ms.</summary>
    public TimeSpan DeadLinkMinTimeout { get; set; } = TimeSpan.FromMilliseconds(750);

    /// <summary>
    /// Before a call goes on a link that heard nothing for longer than the path has proven to keep an idle flow (and than
    /// <see cref="VerifyIdleLinkAfter"/>), check it with a PING first; without a PONG in time the link is replaced and the call, never
    /// sent on it, goes on the fresh link or the fallback. Needs <see cref="DeadLinkDetection"/>. Default true.
    /// </summary>
    public bool VerifyIdleLinks { get; set; } = true;

    /// <summary>Idle periods up to this need no check even before the path has proven any. Default 10 s.</summary>
    public TimeSpan VerifyIdleLinkAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Probe the longest heartbeat interval the path keeps alive, per network, within the server's policy. Default true.</summary>
    public bool SmartHeartbeat { get; set; } = true;

    /// <summary>The smart heartbeat stops probing once the interval that worked and the one that failed are this close. Default 5 s.</summary>
    public TimeSpan HeartbeatProbeResolution { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Reconnect by itself after the link was lost (not after <see cref="MlpClient.CloseAsync"/>, SESSION_TAKEN_OVER or AUTH_FAILED), and on <see cref="MlpClient.NotifyNetworkChanged"/>. Default true.</summary>
    public bool AutoReconnect { get; set; } = true;

    /// <summary>The first backoff step: attempt n waits a uniformly random time in [0, min(<see cref="ReconnectMaxDelay"/>, base × 2^n)]. Default 1 s.</summary>
    public TimeSpan ReconnectBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The cap of the backoff. Default 60 s.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The cap of the backoff after an attempt that got no answer at all (the connect timed out: the path is down and nothing reached
    /// a server), so the next attempt follows the path's return within about this. Refusals and resets keep <see cref="ReconnectMaxDelay"/>. Default 2 s.
    /// </summary>
    public TimeSpan ReconnectUnansweredMaxDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The cap of the backoff after an unanswered attempt while a call waits for the link: the attempts then follow each other closely,
    /// so a SYN goes out about every second (the kernel resends an unanswered SYN after 1 s) and the path's return is found within
    /// about that. Only while the app is owed an answer: an idle client keeps <see cref="ReconnectUnansweredMaxDelay"/>'s jitter, so an
    /// outage does not end in a reconnect storm. Default 250 ms.
    /// </summary>
    public TimeSpan ReconnectOwedMaxDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// While a call waits for the link and no connection attempt has been answered, a connect opens a fresh connection attempt (a new
    /// socket, whose first SYN leaves at once) every max(this, SRTT + 4×RTTVAR), at most every 1 s, instead of leaving the path's return
    /// to an attempt whose SYN the kernel resends only 1, 3, 7 s after it started; the first to connect wins, the others are closed
    /// (docs/sdk.md "Reconnect"). Within 10 ms–1 s. Default 100 ms.
    /// </summary>
    public TimeSpan ReconnectOwedFreshAttemptInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The most connection attempts open at once while fresh ones are opened (<see cref="ReconnectOwedFreshAttemptInterval"/>): a fresh
    /// one beyond it closes the oldest. Within 1–16. Default 4.
    /// </summary>
    public int ReconnectOwedMaxOpenAttempts { get; set; } = 4;

    /// <summary>
    /// The most fresh connection attempts (<see cref="ReconnectOwedFreshAttemptInterval"/>) per outage; after them the attempts follow
    /// each other one at a time again (<see cref="ReconnectOwedMaxDelay"/>). 0 turns fresh attempts off. Within 0–10000. Default 600
    /// (a minute at 100 ms).
    /// </summary>
    public int ReconnectOwedMaxFreshAttempts { get; set; } = 600;

    /// <summary>Race the endpoints (and every address of a host name) with a stagger instead of trying one; the winner is tried first next time. Default true.</summary>
    public bool ConnectionRacing { get; set; } = true;

    /// <summary>How long a connection attempt runs alone before the next endpoint or address is tried too (RFC 8305's 250 ms). Default 250 ms.</summary>
    public TimeSpan ConnectionAttemptDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Resend an idempotent call (<see cref="MlpCallOptions.Idempotent"/> or an <see cref="MlpCallOptions.IdempotencyKey"/>) whose link
    /// failed under it, on a fresh link or the HTTP fallback, within the retry budget. A call the server certainly did not process is
    /// resent whatever its kind. Default true.
    /// </summary>
    public bool Retries { get; set; } = true;

    /// <summary>Resends after the first per call. Default 2.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>The retry budget: each call adds this many tokens, each retry or hedge spends one, so resends stay within this share of calls. Default 0.1.</summary>
    public double RetryBudgetRatio { get; set; } = 0.1;

    /// <summary>
    /// The retry budget's share on a lossy path (docs/sdk.md "Retries and hedging"): while the quality is Weak or Offline, or at least
    /// <see cref="WeakLossRate"/> of the recent calls took more than twice the median and 200 ms more (they waited for a TCP retransmission), each call
    /// adds this many tokens instead of <see cref="RetryBudgetRatio"/>. The budget pays the hedges of the slow calls on such a path.
    /// At most 0.5. Default 0.4.
    /// </summary>
    public double WeakRetryBudgetRatio { get; set; } = 0.4;

    /// <summary>The most tokens the retry budget holds (it starts full), so a burst of failures after a quiet time is bounded too. Default 10.</summary>
    public int RetryBudgetCapacity { get; set; } = 10;

    /// <summary>The first step of the jittered backoff between resends of one call: resend n waits a random time in [0, base × 2^n], at most 1 s. Default 50 ms.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Send a second copy of an idempotent call once its expected latency has passed without an answer, on the secondary link
    /// (<see cref="HedgeLink"/>) or else over the HTTP fallback; the first answer wins, the other is cancelled. Needs
    /// <see cref="HedgeLink"/> or <see cref="MlpClientOptions.HttpFallbackEndpoint"/>. Default true.
    /// </summary>
    public bool Hedging { get; set; } = true;

    /// <summary>
    /// On a path that is not Good, keep a second long link open beside the session's (a secondary link, docs/protocol.md §5.6: no
    /// pushes, no session takeover) for hedges: warm, on a TCP stream of its own. Default true.
    /// </summary>
    public bool HedgeLink { get; set; } = true;

    /// <summary>
    /// On a lossy path (the one that gets <see cref="WeakRetryBudgetRatio"/>), when the gateway answers copies of one call with one
    /// backend call (its WELCOME's <c>call_coalescing_window_ms</c>, docs/protocol.md §6.1), send an idempotent call on the session link
    /// and the secondary link at once, and its hedge over the HTTP fallback once the expected latency has passed without an answer
    /// (docs/sdk.md "Copies on a lossy path"). The copy on the secondary link costs request bytes on the radio, not backend load, so it
    /// is not paid from the retry budget; the hedge is. Default true.
    /// </summary>
    public bool DuplicateOnLossyPath { get; set; } = true;

    /// <summary>The shortest wait before a hedge (otherwise median + 4 × MAD of recent first copies, at least 1.2 × the median). Default 50 ms.</summary>
    public TimeSpan HedgeMinDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// On a lossy path (the one that gets <see cref="WeakRetryBudgetRatio"/>), follow a request that is still the last frame sent on its
    /// link with an empty PING <see cref="TailLossTrailerDelay"/> later, so that TCP repairs a lost request (and, through the server's
    /// PONG, a lost response) by selective acknowledgement after about RTT + RTT/4 rather than by its tail-loss probe or retransmission
    /// timeout (docs/sdk.md "Tail-loss trailers"). Costs one small frame each way per call on such a path. Default true.
    /// </summary>
    public bool TailLossTrailers { get; set; } = true;

    /// <summary>
    /// How long after a request its trailer goes: long enough for a fast backend's response to leave the server before the PONG, short
    /// against a quarter of the RTT (the reordering window the sender's TCP waits before it resends). At most 1 s. Default 25 ms.
    /// </summary>
    public TimeSpan TailLossTrailerDelay { get; set; } = TimeSpan.FromMilliseconds(25);

    /// <summary>
    /// Floor of TCP's retransmission timeout on the SDK's own TCP sockets (the links and the HTTP fallback): <c>TCP_RTO_MIN_US</c>, which
    /// only Linux 6.15 or later has. A lost request is then resent after about SRTT + max(4 × RTTVAR, this) instead of SRTT + 200 ms.
    /// Best effort: Android and iOS kernels do not have the option today, and it is then ignored (the gateway's own
    /// <c>Mlp:TcpRtoMin</c> still speeds up lost responses). <see cref="TimeSpan.Zero"/> leaves the system default; else 5–200 ms.
    /// Default zero, opt-in: on the lab's lossy path it gained nothing beyond noise (docs/sdk.md "TCP loss recovery").
    /// </summary>
    public TimeSpan TcpRtoMin { get; set; } = TimeSpan.Zero;

    /// <summary><c>TCP_THIN_LINEAR_TIMEOUTS</c> on the SDK's TCP sockets (Linux and Android): no exponential backoff for a thin stream's first retransmissions. Default false (opt-in).</summary>
    public bool TcpThinLinearTimeouts { get; set; }

    /// <summary>
    /// While the long link is down, still connecting, or suspect (a PING unanswered past the RTO), send calls over the HTTP fallback
    /// (when configured) instead of waiting for the link. Default true.
    /// </summary>
    public bool ShortConnectionFallback { get; set; } = true;

    /// <summary>The network the device is on (e.g. a Wi-Fi BSSID hash or "cellular:46001"), used to remember the heartbeat per network. Changed by <see cref="MlpClient.NotifyNetworkChanged"/>.</summary>
    public string NetworkId { get; set; } = string.Empty;

    /// <summary>The jitter source; tests seed it.</summary>
    internal Random Random { get; set; } = Random.Shared;

    /// <summary>Resolves host names for the connection race; tests give names several loopback addresses.</summary>
    internal Func<string, CancellationToken, Task<System.Net.IPAddress[]>> Resolver { get; set; } = System.Net.Dns.GetHostAddressesAsync;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        Positive(GoodRtt, nameof(GoodRtt));
        if (WeakRtt <= GoodRtt)
            throw new ArgumentException($"{nameof(WeakRtt)} must be above {nameof(GoodRtt)}.", nameof(WeakRtt));
        if (!(WeakLossRate is > 0 and <= 1))
            throw new ArgumentException($"{nameof(WeakLossRate)} must be in (0, 1].", nameof(WeakLossRate));
        if (LossWindow is < 1 or > 1000)
            throw new ArgumentException($"{nameof(LossWindow)} must be in [1, 1000].", nameof(LossWindow));
        if (OfflineAfterFailures < 1)
            throw new ArgumentException($"{nameof(OfflineAfterFailures)} must be at least 1.", nameof(OfflineAfterFailures));
        Positive(ServerAllowance, nameof(ServerAllowance));
        Positive(MinConnectTimeout, nameof(MinConnectTimeout));
        Positive(DeadLinkMinTimeout, nameof(DeadLinkMinTimeout));
        Positive(HeartbeatProbeResolution, nameof(HeartbeatProbeResolution));
        Positive(ReconnectBaseDelay, nameof(ReconnectBaseDelay));
        if (ReconnectMaxDelay < ReconnectBaseDelay)
            throw new ArgumentException($"{nameof(ReconnectMaxDelay)} must be at least {nameof(ReconnectBaseDelay)}.", nameof(ReconnectMaxDelay));
        Positive(ReconnectUnansweredMaxDelay, nameof(ReconnectUnansweredMaxDelay));
        Positive(ReconnectOwedMaxDelay, nameof(ReconnectOwedMaxDelay));
        if (ReconnectOwedFreshAttemptInterval < TimeSpan.FromMilliseconds(10) || ReconnectOwedFreshAttemptInterval > TimeSpan.FromSeconds(1))
            throw new ArgumentException($"{nameof(ReconnectOwedFreshAttemptInterval)} must be within 10 ms-1 s.", nameof(ReconnectOwedFreshAttemptInterval));
        if (ReconnectOwedMaxOpenAttempts is < 1 or > 16)
            throw new ArgumentException($"{nameof(ReconnectOwedMaxOpenAttempts)} must be in [1, 16].", nameof(ReconnectOwedMaxOpenAttempts));
        if (ReconnectOwedMaxFreshAttempts is < 0 or > 10_000)
            throw new ArgumentException($"{nameof(ReconnectOwedMaxFreshAttempts)} must be in [0, 10000].", nameof(ReconnectOwedMaxFreshAttempts));
        Positive(VerifyIdleLinkAfter, nameof(VerifyIdleLinkAfter));
        Positive(ConnectionAttemptDelay, nameof(ConnectionAttemptDelay));
        if (MaxRetries is < 0 or > 10)
            throw new ArgumentException($"{nameof(MaxRetries)} must be in [0, 10].", nameof(MaxRetries));
        if (!(RetryBudgetRatio is >= 0 and <= 1))
            throw new ArgumentException($"{nameof(RetryBudgetRatio)} must be in [0, 1].", nameof(RetryBudgetRatio));
        if (!(WeakRetryBudgetRatio is >= 0 and <= 0.5))
            throw new ArgumentException($"{nameof(WeakRetryBudgetRatio)} must be in [0, 0.5].", nameof(WeakRetryBudgetRatio));
        if (RetryBudgetCapacity is < 0 or > 10_000)
            throw new ArgumentException($"{nameof(RetryBudgetCapacity)} must be in [0, 10000].", nameof(RetryBudgetCapacity));
        Positive(RetryBaseDelay, nameof(RetryBaseDelay));
        Positive(HedgeMinDelay, nameof(HedgeMinDelay));
        Positive(TailLossTrailerDelay, nameof(TailLossTrailerDelay));
        if (TailLossTrailerDelay > TimeSpan.FromSeconds(1))
            throw new ArgumentException($"{nameof(TailLossTrailerDelay)} must be at most 1 s.", nameof(TailLossTrailerDelay));
        if (TcpRtoMin != TimeSpan.Zero && (TcpRtoMin < TimeSpan.FromMilliseconds(5) || TcpRtoMin > TimeSpan.FromMilliseconds(200)))
            throw new ArgumentException($"{nameof(TcpRtoMin)} must be zero (the system default) or within 5-200 ms.", nameof(TcpRtoMin));
        ArgumentNullException.ThrowIfNull(NetworkId);
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
            throw new ArgumentException($"{name} must be positive.", name);
    }
}
