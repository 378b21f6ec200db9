using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using AccessLayer.Client;
using AccessLayer.Client.Transport;
using AccessLayer.Protocol.Hpack;

namespace AccessLayer.Lab;

internal enum ClientKind
{
    /// <summary>The SDK as an app uses it: every strategy at its default, HTTP fallback configured, 10 s deadline per call.</summary>
    Sdk,

    /// <summary>
    /// One connection, fixed 30 s timeouts, no retry, no racing, the server's fixed heartbeat: the same SDK with every
    /// strategy off (no dynamic timeouts, no dead-link detection, no smart heartbeat, no automatic reconnect, no
    /// HTTP fallback). The app reconnects only when a call finds the link closed.
    /// </summary>
    Naive,
}

/// <summary>One call as the app saw it: times in seconds on the scenario's clock.</summary>
internal sealed record CallRecord(int Index, string Operation, double IssuedAt, double DoneAt, bool Ok, string? Error, string? Transport)
{
    /// <summary>A second copy went out (the SDK's hedge), and whether its answer was the one that came first.</summary>
    public bool Hedged { get; init; }

    public bool AnsweredByHedge { get; init; }

    /// <summary>Sends of the call, resends after a failed path included (1: sent once).</summary>
    public int Attempts { get; init; } = 1;

    public double Latency => DoneAt - IssuedAt;
}

/// <summary>One lab device: an <see cref="MlpClient"/> of one <see cref="ClientKind"/>, what it sent and what it got.</summary>
internal sealed class LabClient : IAsyncDisposable
{
    public static readonly TimeSpan SdkDeadline = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan NaiveTimeout = TimeSpan.FromSeconds(30);

    /// <summary><c>LAB_ADD_WITHOUT_KEY=1</c>: <c>add</c> goes without an idempotency key (a plain side effect, never resent), as in the runs before 2026-12-05.</summary>
    public static readonly bool AddWithoutKey = Environment.GetEnvironmentVariable("LAB_ADD_WITHOUT_KEY") == "1";

    /// <summary><c>LAB_SDK_TCP_RTO_MIN_MS=n</c>: the SDK's <see cref="MlpWeakNetworkOptions.TcpRtoMin"/> (0: the system's default and no thin-stream linear timeouts, what a phone has today); unset: the SDK's default.</summary>
    public static readonly int? SdkTcpRtoMinMs = int.TryParse(Environment.GetEnvironmentVariable("LAB_SDK_TCP_RTO_MIN_MS"), out var ms) ? ms : null;
    private readonly Stopwatch _clock;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private readonly ConcurrentBag<CallRecord> _calls = [];
    private readonly ConcurrentDictionary<string, int> _pushes = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<double> _disconnects = new();
    private readonly ConcurrentQueue<double> _reconnects = new();

    public LabClient(ClientKind kind, string deviceId, LabTopology topology, Stopwatch clock)
    {
        Kind = kind;
        DeviceId = deviceId;
        _clock = clock;
        Transports = new CountingTransportFactory(MlpTransportFactory.Default) { Clock = () => _clock.Elapsed.TotalSeconds };
        var options = new MlpClientOptions
        {
            Endpoint = new Uri($"tcp://{topology.RadioGatewayAddress}:{LabTopology.MlpPort}"),
            DeviceId = deviceId,
            Platform = "lab",
            AppVersion = "1",
            NetworkType = "cellular",
            TransportFactory = Transports,
            OnPush = OnPushAsync,
        };
        if (kind == ClientKind.Sdk)
        {
            options.HttpFallbackEndpoint = new Uri($"http://{topology.RadioGatewayAddress}:{LabTopology.HttpPort}/");
            options.WeakNetwork.NetworkId = "radio";
            if (SdkTcpRtoMinMs is { } rtoMin)
            {
                options.WeakNetwork.TcpRtoMin = TimeSpan.FromMilliseconds(rtoMin);
                options.WeakNetwork.TcpThinLinearTimeouts = rtoMin > 0;
            }
        }
        else
        {
            options.DefaultTimeout = NaiveTimeout;
            options.ConnectTimeout = NaiveTimeout;
            options.WeakNetwork = new MlpWeakNetworkOptions
            {
                DynamicTimeouts = false,
                DeadLinkDetection = false,
                VerifyIdleLinks = false,
                SmartHeartbeat = false,
                AutoReconnect = false,
                ConnectionRacing = false,
                Retries = false,
                Hedging = false,
                TailLossTrailers = false,
                ShortConnectionFallback = false,
                TcpRtoMin = TimeSpan.Zero,
                TcpThinLinearTimeouts = false,
            };
        }

        Client = new MlpClient(options);
        Client.Disconnected += _ => _disconnects.Enqueue(Now);
        Client.Reconnected += _ => _reconnects.Enqueue(Now);
    }

    public ClientKind Kind { get; }

    public string DeviceId { get; }

    public MlpClient Client { get; }

    public CountingTransportFactory Transports { get; }

    public IReadOnlyCollection<CallRecord> Calls => _calls;

    public IReadOnlyDictionary<string, int> PushesReceived => _pushes;

    public IReadOnlyCollection<double> Disconnects => _disconnects;

    /// <summary>When the client's own reconnect brought the link back (its WELCOME arrived).</summary>
    public IReadOnlyCollection<double> Reconnects => _reconnects;

    private double Now => _clock.Elapsed.TotalSeconds;

    /// <summary>The first connect, before the scenario's clock matters: retried for up to a minute (a slow path, a starting gateway).</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var until = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await Client.ConnectAsync(cancellationToken);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException && until.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(1000, cancellationToken);
            }
        }
    }

    /// <summary>
    /// One call of the mix: <c>get</c> is idempotent (marked so), <c>add</c> is a side effect and is not; both carry
    /// the request id the backend counts executions by.
    /// </summary>
    public async Task CallAsync(int index, string operation, CancellationToken cancellationToken)
    {
        var issued = Now;
        var requestId = $"{DeviceId}/{index}";
        var deadline = Kind == ClientKind.Sdk ? SdkDeadline : NaiveTimeout;
        string? error = null;
        string? transport = null;
        var ok = false;
        MlpResponse? answer = null;
        try
        {
            if (Kind == ClientKind.Naive && !Client.IsConnected)
                await ReconnectNaiveAsync(cancellationToken);
            // add carries an idempotency key (the request id), as a mobile app's side effects should: the SDK may then resend or
            // hedge it, and the backend executes it once per key. The naive client sends the same header and never resends.
            var options = new MlpCallOptions
            {
                Timeout = deadline,
                Idempotent = operation == "get",
                IdempotencyKey = operation == "add" && !AddWithoutKey ? requestId : null,
                Headers = [new HeaderField("x-request-id", requestId)],
            };
            // A guard against a call that never ends (a client bug must not hang the lab): the deadline plus 15 s.
            var call = Client.CallAsync("shop", operation, new byte[48], options, cancellationToken);
            var finished = await Task.WhenAny(call, Task.Delay(deadline + TimeSpan.FromSeconds(15), cancellationToken));
            if (finished != call)
            {
                error = "hung";
                _ = call.ContinueWith(static t => t.Exception, TaskScheduler.Default);
            }
            else
            {
                var response = await call;
                answer = response;
                transport = response.Transport;
                ok = response.IsSuccess;
                if (!ok)
                    error = "status " + response.Status;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            error = ex.GetType().Name + ": " + (ex.Message.Length > 120 ? ex.Message[..120] : ex.Message);
        }

        _calls.Add(new CallRecord(index, operation, issued, Now, ok, error, transport)
        {
            Hedged = answer?.Hedged ?? false,
            AnsweredByHedge = answer?.AnsweredByHedge ?? false,
            Attempts = answer?.Attempts ?? 1,
        });
    }

    /// <summary>The device moved to another network whose path to the gateway is <paramref name="endpoint"/>.</summary>
    public void MoveTo(Uri endpoint, Uri httpFallback, string networkId)
    {
        Client.Options.Endpoint = endpoint;
        if (Kind == ClientKind.Sdk)
        {
            Client.Options.HttpFallbackEndpoint = httpFallback;
            // The app's connectivity callback; the naive app has none.
            Client.NotifyNetworkChanged(networkId, "cellular");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Client.DisposeAsync();
        }
        catch (Exception ex) when (ex is IOException or MlpException or ObjectDisposedException)
        {
            // A link that died with the network: nothing to close politely.
        }

        _connectLock.Dispose();
    }

    private async Task ReconnectNaiveAsync(CancellationToken cancellationToken)
    {
        await _connectLock.WaitAsync(cancellationToken);
        try
        {
            if (!Client.IsConnected)
                await Client.ConnectAsync(cancellationToken);
        }
        finally
        {
            _connectLock.Release();
        }
    }

    private ValueTask OnPushAsync(MlpPush push, CancellationToken cancellationToken)
    {
        _pushes.AddOrUpdate(Encoding.UTF8.GetString(push.Body.Span), 1, (_, n) => n + 1);
        return ValueTask.CompletedTask;
    }
}
