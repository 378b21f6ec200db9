using AccessLayer.Client.Internal;
using AccessLayer.Client.Strategies;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;
using Google.Protobuf;

namespace AccessLayer.Client;

/// <summary>
/// The one object an app holds to talk to the access layer over MLP (docs/protocol.md): connects
/// (TCP, TLS or WebSocket), authenticates with the device token or resumes with the last ticket,
/// calls services (raw bytes or typed protobuf), receives pushes and ACKs them, keeps zstd
/// dictionaries, and falls back to HTTP when the long link is down. Thread-safe.
/// Weak-network strategies (docs/sdk.md, <see cref="MlpClientOptions.WeakNetwork"/>): a network quality
/// model, dynamic timeouts, fake-connection detection, a smart heartbeat and reconnects with capped,
/// jittered backoff, all driven by <see cref="MlpClientOptions.TimeProvider"/>.
/// </summary>
public sealed class MlpClient : IAsyncDisposable
{
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private readonly bool _ownsHttpClient;
    private readonly HttpClient? _http;
    private MlpLink? _link;
    private MlpLink? _closedLink;
    private long _bytesSent;
    private long _bytesReceived;
    private long _trailers;
    private long _lastProcessedPushSequence;
    private int _connecting;
    private volatile bool _wantConnected;
    private volatile bool _disposed;

    public MlpClient(MlpClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.WeakNetwork);
        options.WeakNetwork.Validate();
        Options = options;
        Rtt = new RttEstimator();
        QualityModel = new NetworkQualityModel(options.WeakNetwork, Rtt);
        QualityModel.Changed += quality => QualityChanged?.Invoke(this, quality);
        Timeouts = new DynamicTimeout(options.WeakNetwork, Rtt, QualityModel);
        FreshAttempts = new FreshConnectAttempts(options.WeakNetwork, Rtt);
        HeartbeatTuner = new HeartbeatTuner(options.WeakNetwork);
        HeartbeatTuner.SwitchNetwork(NetworkKey);
        Reconnects = new MlpReconnectLoop(this);
        EndpointList = new EndpointList(options);
        Bodies = new MlpClientBodies(options.Dictionaries, options.MaxBodySize, options.MinCompressSize);
        if (options.HttpFallbackEndpoint is not null)
        {
            _ownsHttpClient = options.HttpClient is null;
            _http = options.HttpClient ?? MlpHttpFallback.CreateClient(options.WeakNetwork);
        }

        Router = new MlpCallRouter(this, _http);
        Secondary = new MlpSecondaryLink(this);
        LinkChanges = new MlpLinkChanges(this);
    }

    public MlpClientOptions Options { get; }

    internal MlpClientBodies Bodies { get; }

    internal RttEstimator Rtt { get; }

    internal NetworkQualityModel QualityModel { get; }

    internal DynamicTimeout Timeouts { get; }

    internal FreshConnectAttempts FreshAttempts { get; }

    internal HeartbeatTuner HeartbeatTuner { get; }

    internal MlpReconnectLoop Reconnects { get; }

    internal EndpointList EndpointList { get; }

    internal MlpCallRouter Router { get; }

    /// <summary>The second long link hedges go on (docs/sdk.md "Retries and hedging").</summary>
    internal MlpSecondaryLink Secondary { get; }

    /// <summary>Pushes reach the app one at a time, across links (docs/sdk.md "Cloud compensation").</summary>
    internal SemaphoreSlim PushGate { get; } = new(1, 1);

    internal MlpLink? CurrentLink => Volatile.Read(ref _link);

    /// <summary>The app wants a link and one is being opened or brought back.</summary>
    internal bool LinkComing => _wantConnected && !_disposed && (Volatile.Read(ref _connecting) > 0 || Reconnects.Running);

    /// <summary>Calls resent after their link failed under them (docs/sdk.md "Retries and hedging").</summary>
    public long RetriesSent => Router.Retries;

    /// <summary>Second copies of idempotent calls sent because the first was slow (on the secondary link or over the HTTP fallback).</summary>
    public long HedgesSent => Router.Hedges;

    /// <summary>Calls sent on the session link and the secondary link at once, on a lossy path to a gateway that coalesces copies (docs/sdk.md "Copies on a lossy path").</summary>
    public long CallsDuplicated => Router.Hedger.Duplicated;

    /// <summary>Of <see cref="HedgesSent"/>, those sent on the secondary link (docs/sdk.md "Retries and hedging").</summary>
    public long HedgesOnSecondaryLink => Router.Hedger.HedgesOnLink;

    /// <summary>Secondary links opened for hedges so far.</summary>
    public long SecondaryLinksOpened => Secondary.Opened;

    /// <summary>Empty PINGs sent behind requests on a lossy path so that TCP repairs a lost tail segment sooner (docs/sdk.md "Tail-loss trailers").</summary>
    public long TrailersSent => Interlocked.Read(ref _trailers);

    /// <summary>How long an idempotent call waits now before its hedge, from the recent calls' latencies; null before the first answer.</summary>
    public TimeSpan? HedgeDelay => Router.Hedger.ExpectedDelay();

    private string NetworkKey => Options.NetworkType + "|" + Options.WeakNetwork.NetworkId;

    /// <summary>How the SDK rates the path now (docs/sdk.md "Network quality").</summary>
    public NetworkQuality Quality => QualityModel.Quality;

    /// <summary>Smoothed round trip time (RFC 6298 SRTT) from PING/PONG, HELLO/WELCOME and calls sent once; zero before the first sample.</summary>
    public TimeSpan SmoothedRtt => Rtt.Smoothed;

    /// <summary>Variation of the round trip time (RTTVAR); zero before the first sample.</summary>
    public TimeSpan RttVariation => Rtt.Variation;

    /// <summary>Fresh connection attempts opened while a call waited for the link and nothing answered (docs/sdk.md "Reconnect").</summary>
    public long FreshAttemptsOpened => FreshAttempts.Taken;

    /// <summary>The heartbeat interval the smart heartbeat uses now on this network (within the server's policy).</summary>
    public TimeSpan HeartbeatInterval => HeartbeatTuner.Interval;

    /// <summary>Raised when <see cref="Quality"/> changes (on the thread that observed the change).</summary>
    public event Action<MlpClient, NetworkQuality>? QualityChanged;

    /// <summary>Raised when an automatic reconnect was scheduled: the failed attempts so far and the wait before the next.</summary>
    public event Action<MlpClient, int, TimeSpan>? ReconnectScheduled;

    /// <summary>Raised when an automatic reconnect brought the link back.</summary>
    public event Action<MlpClient>? Reconnected;

    /// <summary>True while a long link is up and not draining.</summary>
    public bool IsConnected => Volatile.Read(ref _link) is { IsOpen: true };

    /// <summary>The WELCOME of the current (or last) connection.</summary>
    public Welcome? LastWelcome { get; private set; }

    /// <summary>The GOAWAY that ended the last connection, if one did.</summary>
    public GoAway? LastGoAway { get; internal set; }

    /// <summary>"tcp", "tls" or "websocket" for the current link; null when there is none.</summary>
    public string? Transport => Volatile.Read(ref _link)?.TransportName;

    /// <summary>The newest resume ticket; persist it with the app's state to resume after a restart.</summary>
    public ReadOnlyMemory<byte> ResumeTicket { get; set; }

    /// <summary>Highest sequenced push the app has processed in the current session.</summary>
    public ulong LastProcessedPushSequence
    {
        get => (ulong)Interlocked.Read(ref _lastProcessedPushSequence);
        set => Interlocked.Exchange(ref _lastProcessedPushSequence, (long)value);
    }

    /// <summary>Dictionaries the client holds now, newest first.</summary>
    public IReadOnlyList<uint> DictionaryIds => Bodies.HeldIds;

    /// <summary>Bytes written to and read from the network (frames; the fallback counts its frames too).</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    /// <summary>Raised when DICT data delivered a new dictionary (already stored).</summary>
    public event Action<uint>? DictionaryAdded;

    /// <summary>Raised when the long link ends (server close, GOAWAY, network loss).</summary>
    public event Action<MlpClient>? Disconnected;

    /// <summary>
    /// Opens the long link and completes the handshake: with the resume ticket when one is held (no
    /// token round trip; a rejected ticket is retried once with the token), else with the device token.
    /// Then fetches the server's recommended dictionary if the client lacks it.
    /// </summary>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        if (Options.Endpoint is null && Options.Endpoints.Count == 0)
            throw new InvalidOperationException("Neither MlpClientOptions.Endpoint nor MlpClientOptions.Endpoints is set.");
        _wantConnected = true;
        Interlocked.Increment(ref _connecting);
        try
        {
            await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await ConnectLockedAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException or IOException or System.Net.Sockets.SocketException)
            {
                QualityModel.OnFailure();
                throw;
            }
            finally
            {
                _connectLock.Release();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _connecting);
            SignalLinkChanged();
        }
    }

    /// <summary>One attempt of the reconnect loop; nothing to do when the app connected meanwhile.</summary>
    internal async Task ReconnectOnceAsync(CancellationToken cancellationToken)
    {
        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_wantConnected || _disposed || IsConnected)
                return;
            await ConnectLockedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _connectLock.Release();
            SignalLinkChanged();
        }

        // Only when this attempt brought the link back (not when the app connected or closed meanwhile).
        Reconnected?.Invoke(this);
    }

    /// <summary>
    /// The connect itself, under the connect lock: transport and handshake within one dynamic connect
    /// timeout (docs/sdk.md "Dynamic timeouts").
    /// </summary>
    private async Task ConnectLockedAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _link, null) is { } old)
        {
            Secondary.OnPrimaryClosed(old);
            await old.DisposeAsync().ConfigureAwait(false);
        }

        if (Interlocked.Exchange(ref _closedLink, null) is { } closed)
            await closed.DisposeAsync().ConfigureAwait(false);

        var (link, welcome) = await MlpConnector.ResumeOrLogInAsync(this, cancellationToken).ConfigureAwait(false);
        LastWelcome = welcome;
        EndpointList.OnWelcome(welcome);
        // Not null: a GOAWAY right behind the WELCOME may have closed the link before it was published here.
        LastGoAway = link.GoAway;
        if (!welcome.ResumeTicket.IsEmpty)
            ResumeTicket = welcome.ResumeTicket.ToByteArray();
        if (!welcome.SessionResumed)
            LastProcessedPushSequence = 0;
        Volatile.Write(ref _link, link);
        SignalLinkChanged();
        Router.Hedger.OnLinkUp();

        await MlpConnector.FetchRecommendedDictionaryAsync(this, link, welcome, cancellationToken).ConfigureAwait(false);
        QualityModel.OnSuccess();
    }

    /// <summary>The endpoint of the current (or last) link.</summary>
    public Uri? ConnectedEndpoint { get; internal set; }

    /// <summary>The session the link is in (after <see cref="ConnectAsync"/>).</summary>
    public string? SessionId => LastWelcome?.SessionId;

    public bool SessionResumed => LastWelcome?.SessionResumed ?? false;

    /// <summary>
    /// Calls <paramref name="service"/>/<paramref name="operation"/> with raw body bytes. Uses the long link
    /// when it is up, else the HTTP fallback when configured. Non-2xx statuses are returned, not thrown;
    /// MLP errors (ERROR, GOAWAY, lost link) throw <see cref="MlpException"/>; the deadline throws <see cref="TimeoutException"/>.
    /// </summary>
    public Task<MlpResponse> CallAsync(string service, string operation, ReadOnlyMemory<byte> body, MlpCallOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(service);
        ArgumentException.ThrowIfNullOrEmpty(operation);
        return Router.CallAsync(service, operation, body, options ?? new MlpCallOptions(), cancellationToken);
    }

    /// <summary>Waits (within <paramref name="timeout"/>) until a link is up; null when none is coming any more.</summary>
    internal Task<MlpLink?> WaitForLinkAsync(TimeSpan timeout, CancellationToken cancellationToken) => LinkChanges.WaitForLinkAsync(timeout, cancellationToken);

    /// <summary>A link was published, or a connect or the reconnect loop ended: waiters look again.</summary>
    internal void SignalLinkChanged() => LinkChanges.Signal();

    /// <summary>Calls waiting for the link wake on its changes; the reconnect loop reads how many wait (docs/sdk.md "Reconnect").</summary>
    internal MlpLinkChanges LinkChanges { get; }

    /// <summary>Typed call: serializes <paramref name="request"/>, parses the 2xx answer as <typeparamref name="TResponse"/>, throws <see cref="MlpStatusException"/> otherwise.</summary>
    public async Task<TResponse> CallAsync<TRequest, TResponse>(string service, string operation, TRequest request, MlpCallOptions? options = null, CancellationToken cancellationToken = default)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>, new()
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = await CallAsync(service, operation, request.ToByteArray(), options, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccess)
            throw new MlpStatusException(response.Status, $"{service}/{operation} answered {response.Status}: {response.Header("error-message")}", response);
        var message = new TResponse();
        message.MergeFrom(response.Body.Span);
        return message;
    }

    /// <summary>Round trip time of one PING/PONG on the long link.</summary>
    public Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default) =>
        Volatile.Read(ref _link) is { IsOpen: true } link ? link.PingAsync(cancellationToken) : throw new MlpException(MlpErrorCode.NoError, "Not connected.");

    /// <summary>
    /// The device moved to another network (Wi-Fi to cellular, another Wi-Fi): the link on the old one is
    /// dropped and replaced at once (a pending backoff wait is cut short and starts over), and the heartbeat
    /// interval learned for <paramref name="networkId"/> (with <paramref name="networkType"/>, when given) applies.
    /// </summary>
    public void NotifyNetworkChanged(string networkId, string? networkType = null)
    {
        ArgumentNullException.ThrowIfNull(networkId);
        Options.WeakNetwork.NetworkId = networkId;
        if (networkType is not null)
            Options.NetworkType = networkType;
        HeartbeatTuner.SwitchNetwork(NetworkKey);
        if (!_wantConnected || _disposed || !Options.WeakNetwork.AutoReconnect)
            return;
        if (Volatile.Read(ref _link) is { IsUp: true } link)
            link.DeclareDead();
        else
        {
            Reconnects.WakeNow();
            Reconnects.Start(immediate: true, TimeSpan.Zero);
        }
    }

    /// <summary>Closes the long link politely (GOAWAY NO_ERROR). The ticket is kept for the next <see cref="ConnectAsync"/>.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        _wantConnected = false;
        await Reconnects.StopAsync().ConfigureAwait(false);
        if (Interlocked.Exchange(ref _link, null) is { } link)
        {
            Secondary.OnPrimaryClosed(link);
            await link.CloseAsync(cancellationToken).ConfigureAwait(false);
            await link.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Drops the link without a goodbye, as a network loss would.</summary>
    internal void AbortLink() => Volatile.Read(ref _link)?.Abort();

    internal void CountSent(long bytes) => Interlocked.Add(ref _bytesSent, bytes);

    internal void CountReceived(long bytes) => Interlocked.Add(ref _bytesReceived, bytes);

    internal void CountTrailer() => Interlocked.Increment(ref _trailers);

    internal void OnDictionaryAdded(uint id) => DictionaryAdded?.Invoke(id);

    internal void OnLinkClosed(MlpLink link)
    {
        if (link.IsSecondary)
        {
            Secondary.OnClosed(link);
            return;
        }

        Secondary.OnPrimaryClosed(link);
        if (link.GoAway is { } goAway)
        {
            LastGoAway = goAway;
            EndpointList.OnGoAway(goAway);
        }

        if (Interlocked.CompareExchange(ref _link, null, link) == link)
        {
            // Disposed by the next ConnectAsync or DisposeAsync, not here: this runs on the link's own reader.
            if (Interlocked.Exchange(ref _closedLink, link) is { } prior && prior != link)
                _ = prior.DisposeAsync().AsTask();
            Disconnected?.Invoke(this);
            var ending = link.GoAway;
            if (_wantConnected && !_disposed && Options.WeakNetwork.AutoReconnect && ending?.Code is not (MlpErrorCode.SessionTakenOver or MlpErrorCode.AuthFailed))
            {
                // Found dead by us, drained or redirected: at once; lost otherwise (a crash drops many clients together): after a jittered wait.
                // Drained or redirected with a retry_after_ms: not earlier than that (docs/protocol.md §12).
                var immediate = link.DeclaredDead || (ending?.Code is MlpErrorCode.ServerDraining or MlpErrorCode.Redirect && ending.RetryAfterMs == 0);
                Reconnects.Start(immediate, TimeSpan.FromMilliseconds(ending?.RetryAfterMs ?? 0));
            }
        }
    }

    /// <summary>A heartbeat after a full idle interval was answered (true) or not (false); for tests that drive the clock.</summary>
    internal event Action<bool>? HeartbeatCompleted;

    internal void OnBeat(bool answered) => HeartbeatCompleted?.Invoke(answered);

    internal void OnReconnectScheduled(int attempt, TimeSpan delay) => ReconnectScheduled?.Invoke(this, attempt, delay);

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        _wantConnected = false;
        await Reconnects.StopAsync().ConfigureAwait(false);
        await Secondary.DisposeAsync().ConfigureAwait(false);
        if (Interlocked.Exchange(ref _link, null) is { } link)
            await link.DisposeAsync().ConfigureAwait(false);
        if (Interlocked.Exchange(ref _closedLink, null) is { } closed)
            await closed.DisposeAsync().ConfigureAwait(false);
        if (_ownsHttpClient)
            _http?.Dispose();
        Bodies.Dispose();
        Reconnects.Dispose();
        _connectLock.Dispose();
    }
}
