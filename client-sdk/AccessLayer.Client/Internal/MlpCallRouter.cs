using System.Net.Http;
using AccessLayer.Client.Strategies;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Client.Internal;

/// <summary>
/// Where each call goes and what happens when its path fails (docs/sdk.md "Retries and hedging",
/// "Short-connection compensation"): the long link when it is up and not suspect; the HTTP fallback while
/// it is down, connecting or suspect (or a wait for it when there is no fallback); an idempotent call
/// hedged (<see cref="MlpHedger"/>) once its expected latency has passed; a call whose link failed under it
/// resent within the <see cref="RetryBudget"/> after a jittered backoff when it is idempotent, or when the
/// server certainly did not process it. A call that may have been processed and is not idempotent is
/// never sent twice.
/// </summary>
internal sealed class MlpCallRouter
{
    private const string IdempotencyKeyHeader = "idempotency-key";
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(1);

    private readonly MlpClient client;
    private readonly HttpClient? http;
    private readonly MlpClientOptions _options;
    private readonly MlpWeakNetworkOptions _weak;
    private readonly TimeProvider _time;
    private long _retries;
    private long _fallbackAnsweredAt;
    private long _fallbackUsedAt;
    private long _fallbackRefusedAt;
    private int _warming;

    public MlpCallRouter(MlpClient client, HttpClient? http)
    {
        this.client = client;
        this.http = http;
        _options = client.Options;
        _weak = _options.WeakNetwork;
        _time = _options.TimeProvider;
        Budget = new RetryBudget(_weak);
        Hedger = new MlpHedger(client, this);
    }

    public RetryBudget Budget { get; }

    public MlpHedger Hedger { get; }

    /// <summary>Latency of answered calls on the long link: what a call is expected to take, for hedging.</summary>
    public CallLatencyWindow CallLatency { get; } = new();

    public long Retries => Interlocked.Read(ref _retries);

    public long Hedges => Hedger.Hedges;

    public bool HasFallback => http is not null && _options.HttpFallbackEndpoint is not null;

    public static bool IsResendable(MlpCallOptions options) =>
        options.Idempotent || !string.IsNullOrEmpty(options.IdempotencyKey) || options.Headers.Any(h => h.Name == IdempotencyKeyHeader);

    public async Task<MlpResponse> CallAsync(string service, string operation, ReadOnlyMemory<byte> body, MlpCallOptions options, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(options.IdempotencyKey) && !options.Headers.Any(h => h.Name == IdempotencyKeyHeader))
            options = Copy(options, options.Timeout, [.. options.Headers, new HeaderField(IdempotencyKeyHeader, options.IdempotencyKey)]);
        var resendable = IsResendable(options);
        if (resendable && Hedger.WantsCallId() && !MlpCallId.IsOn(options.Headers))
            options = Copy(options, options.Timeout, [.. options.Headers, new HeaderField(MlpCallId.HeaderName, MlpCallId.New())]);
        var deadline = options.Timeout ?? _options.DefaultTimeout;
        var bounded = deadline > TimeSpan.Zero && deadline != Timeout.InfiniteTimeSpan;
        var started = _time.GetTimestamp();
        Budget.OnCall(Hedger.BudgetRatio);
        for (var attempt = 0; ; attempt++)
        {
            var attemptOptions = options;
            if (attempt > 0 && bounded)
            {
                var remaining = deadline - _time.GetElapsedTime(started);
                if (remaining <= TimeSpan.Zero)
                    throw new TimeoutException($"{service}/{operation} did not complete within {deadline.TotalMilliseconds:0} ms.");
                attemptOptions = Copy(options, remaining, options.Headers);
            }

            try
            {
                var response = await OnceAsync(service, operation, body, attemptOptions, resendable, attempt == 0, cancellationToken).ConfigureAwait(false);
                response.Attempts = attempt + 1;
                return response;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && MayResend(ex, resendable, attempt))
            {
                Interlocked.Increment(ref _retries);
                var ceiling = _weak.RetryBaseDelay * Math.Pow(2, attempt);
                var delay = (ceiling < MaxRetryDelay ? ceiling : MaxRetryDelay) * _weak.Random.NextDouble();
                if (delay > TimeSpan.Zero)
                    await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// A resend is safe when the server said it did not process the call, or the call is idempotent and its path failed
    /// (never a timeout on a live link: that is a slow backend, and a resend would only add load).
    /// </summary>
    private bool MayResend(Exception failure, bool resendable, int attempt)
    {
        if (!_weak.Retries || attempt >= _weak.MaxRetries)
            return false;
        if (failure is MlpException { NotProcessed: true } and not MlpStatusException)
            return HasFallback || client.LinkComing || client.CurrentLink is { IsOpen: true }; // else nowhere to resend it

        var pathFailed = failure is MlpException { LinkLost: true } or IOException or HttpRequestException;
        return resendable && pathFailed && Budget.TryWithdraw();
    }

    private async Task<MlpResponse> OnceAsync(string service, string operation, ReadOnlyMemory<byte> body, MlpCallOptions options, bool resendable, bool firstAttempt, CancellationToken cancellationToken)
    {
        if (options.ForceHttpFallback && HasFallback)
            return await FallbackAsync(service, operation, body, options, cancellationToken).ConfigureAwait(false);
        var started = _time.GetTimestamp();
        var checkIdle = true;
        while (true)
        {
            var link = client.CurrentLink;
            var usable = link is { IsOpen: true } && !(link.IsSuspect && HasFallback && _weak.ShortConnectionFallback);
            if (!usable && resendable && link is { IsOpen: true } && client.Secondary.Current is { IsSuspect: false } spare)
            {
                // The session's link is suspect (a PING overdue: on a lossy path often a lost segment still being retransmitted): a call that
                // may be sent twice takes the secondary link, warm and on a TCP stream of its own, rather than a new HTTP exchange.
                link = spare;
                usable = true;
            }

            if (!usable && (client.LinkComing || link is { IsOpen: true }))
            {
                // Down, connecting or suspect: the short connection now, or (without one, or while the path itself looks down) the link once it is back.
                if (HasFallback && _weak.ShortConnectionFallback && !PathLooksDown)
                    return await FallbackAsync(service, operation, body, options, cancellationToken).ConfigureAwait(false);
                link = await client.WaitForLinkAsync(options.Timeout ?? _options.DefaultTimeout, cancellationToken).ConfigureAwait(false);
                usable = link is not null;
                options = Remaining(options, started, service, operation);
            }

            if (!usable || link is null)
            {
                if (HasFallback)
                    return await FallbackAsync(service, operation, body, options, cancellationToken).ConfigureAwait(false);
                throw new MlpException(MlpErrorCode.NoError, "Not connected, and no HTTP fallback is configured.", notProcessed: true);
            }

            // Not the secondary link: it heartbeats, and what it survives is not the session link's to learn.
            if (checkIdle && !link.IsSecondary && !await link.VerifyIfIdleAsync(cancellationToken).ConfigureAwait(false))
            {
                // The idle link was dead: the call was never sent on it, so it is routed again (fresh link, fallback or a wait) at no risk.
                checkIdle = false;
                await link.Completion.WaitAsync(TimeSpan.FromSeconds(1), _time, CancellationToken.None).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
                options = Remaining(options, started, service, operation);
                continue;
            }

            if (resendable && firstAttempt && _weak.Hedging && (HasFallback || _weak.HedgeLink) && !options.OneWay && Hedger.Delay(HasFallback) is { } hedgeDelay)
                return await Hedger.HedgedAsync(link, service, operation, body, options, hedgeDelay, HasFallback, cancellationToken).ConfigureAwait(false);
            var response = await OnLinkAsync(link, service, operation, body, options, cancellationToken).ConfigureAwait(false);
            if (firstAttempt)
                SampleRtt(response);
            return response;
        }
    }

    /// <summary>
    /// The reconnect attempts get no answer at all, or the fallback refused a connection, and the fallback has not answered since the
    /// link was lost: a call sent over the fallback now would only sit in the SYN backoff or be refused again; it waits for the link
    /// instead and goes the moment it is back. (A fallback that answered during this outage, a network passing HTTPS but not the long
    /// link's port, keeps being used.)
    /// </summary>
    private bool PathLooksDown
    {
        get
        {
            var outage = client.Reconnects.OutageStartedAt;
            return Interlocked.Read(ref _fallbackAnsweredAt) < outage
                && (client.Reconnects.UnansweredSince != 0 || Interlocked.Read(ref _fallbackRefusedAt) >= outage);
        }
    }

    /// <summary>What is left of the caller's deadline (measured from <paramref name="started"/>) after a wait.</summary>
    private MlpCallOptions Remaining(MlpCallOptions options, long started, string service, string operation)
    {
        var deadline = options.Timeout ?? _options.DefaultTimeout;
        if (deadline <= TimeSpan.Zero || deadline == Timeout.InfiniteTimeSpan)
            return options;
        var remaining = deadline - _time.GetElapsedTime(started);
        if (remaining <= TimeSpan.Zero)
            throw new TimeoutException($"{service}/{operation} did not complete within {deadline.TotalMilliseconds:0} ms.");
        return Copy(options, remaining, options.Headers);
    }

    /// <summary>Karn's rule: only a call sent once (not a resend, not hedged) is an RTT sample for the quality model.</summary>
    public void SampleRtt(MlpResponse response)
    {
        // The link already counted the answer as a success for the loss window; this only moves SRTT and RTTVAR.
        if (response.Transport != "http" && response.Status != 202)
            client.Rtt.AddSample(response.RoundTrip);
    }

    public async Task<MlpResponse> OnLinkAsync(MlpLink link, string service, string operation, ReadOnlyMemory<byte> body, MlpCallOptions options, CancellationToken cancellationToken, bool timeLateAnswer = false)
    {
        var sent = _time.GetTimestamp();
        var response = await link.CallAsync(service, operation, body, options, cancellationToken, timeLateAnswer).ConfigureAwait(false);
        if (!options.OneWay)
            CallLatency.Add(_time.GetElapsedTime(sent));
        return response;
    }

    public async Task<MlpResponse> FallbackAsync(string service, string operation, ReadOnlyMemory<byte> body, MlpCallOptions options, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _fallbackUsedAt, _time.GetTimestamp());
        MlpResponse response;
        try
        {
            response = await MlpHttpFallback.CallAsync(client, http!, _options.HttpFallbackEndpoint!, service, operation, body, options, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.ConnectionError)
        {
            // No connection, so nothing was sent (a gateway restarting refuses it): safe to send again whatever the call.
            Interlocked.Exchange(ref _fallbackRefusedAt, _time.GetTimestamp());
            throw new MlpException(MlpErrorCode.NoError, "The fallback could not be reached; the request was not sent: " + ex.Message, notProcessed: true, ex);
        }

        Interlocked.Exchange(ref _fallbackAnsweredAt, _time.GetTimestamp());
        return response;
    }

    /// <summary>
    /// On a path that is not Good (SRTT at or above <see cref="MlpWeakNetworkOptions.GoodRtt"/>) hedges are likely: the fallback's
    /// connection is opened ahead (a HEAD, when no fallback request went out for 0.8 × <see cref="MlpWeakNetworkOptions.VerifyIdleLinkAfter"/>,
    /// the SDK's pool keeping an idle connection that long) and stays in the HTTP client's pool, so a hedge pays one round trip instead
    /// of TCP and HTTP setup on a slow, lossy path.
    /// </summary>
    public void KeepFallbackWarm()
    {
        if (client.Rtt.Smoothed < _weak.GoodRtt)
            return;
        var last = Interlocked.Read(ref _fallbackUsedAt);
        if (last != 0 && _time.GetElapsedTime(last) < _weak.VerifyIdleLinkAfter * 0.8)
            return;
        if (Interlocked.CompareExchange(ref _fallbackUsedAt, _time.GetTimestamp(), last) == last)
            _ = MlpHttpFallback.WarmAsync(http!, _options.HttpFallbackEndpoint!);
    }

    /// <summary>
    /// A hedge has just taken the fallback's warm connection (HTTP/1.1: one request at a time per connection): another is opened ahead
    /// (a HEAD on a busy pool opens a new connection), so the next hedge, while this one is still out, does not pay TCP setup on the
    /// lossy path. At most one such HEAD in flight.
    /// </summary>
    public void WarmAnotherFallbackConnection()
    {
        if (http is null || _options.HttpFallbackEndpoint is null || Interlocked.CompareExchange(ref _warming, 1, 0) != 0)
            return;
        _ = MlpHttpFallback.WarmAsync(http, _options.HttpFallbackEndpoint).ContinueWith(_ => Volatile.Write(ref _warming, 0), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static MlpCallOptions Copy(MlpCallOptions options, TimeSpan? timeout, IReadOnlyList<HeaderField> headers) => new()
    {
        Headers = headers,
        Timeout = timeout,
        Idempotent = options.Idempotent,
        IdempotencyKey = options.IdempotencyKey,
        OneWay = options.OneWay,
        ForceHttpFallback = options.ForceHttpFallback,
        DisableCompression = options.DisableCompression,
    };
}
