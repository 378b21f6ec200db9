using System.Globalization;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Bots.Cli;

/// <summary>Which traffic pattern a run drives.</summary>
public enum ScenarioKind
{
    /// <summary>N connections opened at a paced rate, held idle, then closed.</summary>
    Conn,

    /// <summary>N publishers to their own topics (subscribers, if any, are elsewhere).</summary>
    Pub,

    /// <summary>N subscribers to one filter, counting and timing whatever arrives.</summary>
    Sub,

    /// <summary>N pairs: publisher i to subscriber i on topic i.</summary>
    P2p,

    /// <summary>N publishers to one wildcard subscriber.</summary>
    FanIn,

    /// <summary>One publisher to N subscribers of one topic.</summary>
    FanOut,

    /// <summary>N publishers to a shared subscription ($share/...) of M members.</summary>
    Shared,

    /// <summary>MLP: N connections calling the gateway's echo service, --concurrency calls in flight each.</summary>
    MlpRpc,

    /// <summary>MLP: N devices connected; a pusher POSTs to the push API (one device per push, or all).</summary>
    MlpPush,
}

/// <summary>mlp-rpc: what drives the calls.</summary>
public enum MlpClientKind
{
    /// <summary>The client SDK (<c>MlpClient</c>): one task per call in flight, the real app's path.</summary>
    Sdk,

    /// <summary>A lean load client: raw socket, pre-encoded pipelined REQUESTs, like h2load for HTTP/2.</summary>
    Lean,
}

/// <summary>mlp-push: whom each POST addresses.</summary>
public enum MlpPushTarget
{
    /// <summary>One device per push, rotating over the devices (<c>deviceId</c>).</summary>
    One,

    /// <summary>Every device of the run: they share one user id, and the push names it (<c>userId</c>).</summary>
    All,
}

/// <summary>Every knob of one bot run, already validated. <see cref="ToArgs"/> gives the command line that reproduces it.</summary>
public sealed record BotOptions
{
    /// <summary>The hard cap on any run's duration, whatever was asked for.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromHours(1);

    public ScenarioKind Scenario { get; init; }

    public string Host { get; init; } = "127.0.0.1";

    public int Port { get; init; } = 1883;

    /// <summary>
    /// MQTT: several brokers as given to <c>--endpoints</c> (<c>host:port,host:port</c>, validated); empty =
    /// <see cref="Host"/>:<see cref="Port"/> alone. Text, so that options compare by value. See <see cref="Brokers"/>.
    /// </summary>
    public string Endpoints { get; init; } = "";

    /// <summary>The brokers clients connect to: client i of each role to broker i mod N, and a lost connection to the next one.</summary>
    public IReadOnlyList<BrokerEndpoint> Brokers =>
        Endpoints.Length > 0 && BrokerEndpoint.TryParseList(Endpoints, out var brokers, out _) ? brokers : [new BrokerEndpoint(Host, Port)];

    /// <summary>
    /// Messaging scenarios: subscriber i connects to broker (i + this) mod N of <see cref="Brokers"/>, publisher i to
    /// broker i mod N; 1 with p2p puts every pair's subscriber on another broker than its publisher (cross-node traffic).
    /// </summary>
    public int SubscriberOffset { get; init; }

    /// <summary>MQTT: 0 = clean sessions; otherwise persistent sessions with this expiry (see <see cref="Client.BotConnectionSettings.SessionExpirySeconds"/>).</summary>
    public uint SessionExpiry { get; init; }

    /// <summary>conn: more broker process ids (a fleet's nodes) whose RSS is summed with <see cref="BrokerPid"/>'s; comma-separated.</summary>
    public string BrokerPids { get; init; } = "";

    /// <summary>Every broker process whose memory conn reports: <see cref="BrokerPid"/>, then <see cref="BrokerPids"/>.</summary>
    public IReadOnlyList<int> MemoryPids =>
        [.. (BrokerPid is { } pid ? [pid] : Array.Empty<int>()),
         .. BrokerPids.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture))];

    /// <summary>MQTT: whether a lost connection is reconnected (to the next broker, same client id, subscription renewed).</summary>
    public bool Reconnect { get; init; } = true;

    /// <summary>Longest wait between reconnect attempts (the wait doubles from 100 ms up to this).</summary>
    public TimeSpan ReconnectMaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    public bool Tls { get; init; }

    public bool Insecure { get; init; }

    public MqttProtocolVersion Version { get; init; } = MqttProtocolVersion.V311;

    public MqttQualityOfService Qos { get; init; }

    /// <summary>Payload bytes per message; at least 8 (the send timestamp).</summary>
    public int PayloadSize { get; init; } = 64;

    /// <summary>Clients of the scenario's main role: connections, publishers, subscribers or pairs.</summary>
    public int Count { get; init; } = 10;

    /// <summary>Shared subscription members.</summary>
    public int Members { get; init; } = 2;

    /// <summary>Messages per publisher; 0 = until the duration ends.</summary>
    public long Messages { get; init; }

    /// <summary>Messages per second per publisher; 0 = as fast as the connection drains.</summary>
    public double Rate { get; init; }

    /// <summary>Messages per second over all publishers (divided evenly); overrides <see cref="Rate"/> when set.</summary>
    public double TotalRate { get; init; }

    /// <summary>Publishing time (warm-up included); for conn the whole connect phase plus hold.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Traffic at the start that is not measured.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>conn: idle time once every connection is established.</summary>
    public TimeSpan Hold { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>conn with --broker-pid: how long into the hold the broker's RSS is read (capped by the hold).</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>After publishing stops, how long to wait for messages still on their way.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>New connections per second over all workers; 0 = unpaced.</summary>
    public double ConnectRate { get; init; } = 1000;

    /// <summary>Connection handshakes in progress at once over all workers.</summary>
    public int ConnectConcurrency { get; init; } = 200;

    public ushort KeepAlive { get; init; } = 60;

    /// <summary>QoS 1/2 publishes unacknowledged at once per publisher.</summary>
    public int Inflight { get; init; } = 32;

    /// <summary>MQTT: SO_SNDBUF of every client socket (see <see cref="Client.BotConnectionSettings.SendBufferBytes"/>); 0 = kernel autotuning.</summary>
    public int SendBuffer { get; init; } = DefaultSendBuffer;

    /// <summary>64 KiB (the kernel doubles it): a few milliseconds of an unpaced publisher's output at a million messages a second.</summary>
    public const int DefaultSendBuffer = 64 * 1024;

    /// <summary>Loopback source addresses to spread client sockets over (127.0.0.2 ...); 0 = let the kernel choose.</summary>
    public int SourceAddresses { get; init; }

    /// <summary>First source address index (workers use disjoint ranges).</summary>
    public int SourceOffset { get; init; }

    /// <summary>conn: child processes sharing the connections (one process holds at most ~20,000 sockets).</summary>
    public int Workers { get; init; } = 1;

    /// <summary>Set by the parent on each child: its index, which also prefixes client ids.</summary>
    public int WorkerIndex { get; init; } = -1;

    /// <summary>conn: the broker's process id, for RSS per connection from /proc.</summary>
    public int? BrokerPid { get; init; }

    /// <summary>mlp-rpc: calls in flight per connection; mlp-push: POSTs in flight.</summary>
    public int Concurrency { get; init; } = 1;

    /// <summary>mlp-push: the gateway's management surface (push API and /metrics), <c>Management:Port</c>.</summary>
    public string Management { get; init; } = DefaultManagement;

    /// <summary>mlp-push: bearer token of the management surface (the gateway's <c>Management:Token</c>); default from the <c>Management__Token</c> environment variable.</summary>
    public string ManagementToken { get; init; } = "";

    public const string DefaultManagement = "http://127.0.0.1:8081/";

    public MlpPushTarget PushTarget { get; init; } = MlpPushTarget.One;

    /// <summary>mlp-rpc: the SDK (default) or the lean pipelined client.</summary>
    public MlpClientKind MlpClient { get; init; } = MlpClientKind.Sdk;

    /// <summary>MLP: HMAC key (the gateway's Mlp:TokenSecret) to mint device tokens with; empty = anonymous HELLOs.</summary>
    public string TokenSecret { get; init; } = "";

    /// <summary>MLP: with --token-secret, each device's token names its own user (<c>{prefix}-user-{run}-{index}</c>) instead of one user for the run, so a traffic table spreads the devices over its zones.</summary>
    public bool UserPerDevice { get; init; }

    /// <summary>mlp-rpc (lean): a device whose WELCOME names <c>home_endpoints</c> (the gateway's Traffic:Steer) connects there instead, once, before calling: a client that followed the steering.</summary>
    public bool FollowHome { get; init; }

    /// <summary>MLP: announce zstd and compress bodies (off by default: echoing random bytes gains nothing).</summary>
    public bool Compress { get; init; }

    public bool IsMlp => Scenario is ScenarioKind.MlpRpc or ScenarioKind.MlpPush;

    public bool Json { get; init; }

    /// <summary>--interval: one JSON line per interval with its counts and latency percentiles; zero = off.</summary>
    public TimeSpan Interval { get; init; }

    /// <summary>Where the interval lines go; empty = standard error.</summary>
    public string IntervalLog { get; init; } = "";

    public bool Quiet { get; init; }

    /// <summary>Topics are {TopicPrefix}/{scenario}/...; the default is unique per run so runs never cross.</summary>
    public string TopicPrefix { get; init; } = "bots/" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>pub: topic (with {i} for the publisher index); sub: filter. Empty = derived from the prefix.</summary>
    public string Topic { get; init; } = "";

    public string ClientPrefix { get; init; } = "bot";

    public bool IsWorkerChild => WorkerIndex >= 0;

    /// <summary>Messages per second each publisher offers; 0 = unlimited.</summary>
    public double RatePerPublisher(int publishers) =>
        TotalRate > 0 ? TotalRate / Math.Max(1, publishers) : Rate;

    /// <summary>The arguments that reproduce this run (after the executable name).</summary>
    public IReadOnlyList<string> ToArgs()
    {
        var inv = CultureInfo.InvariantCulture;
        var args = new List<string>
        {
            ScenarioName(Scenario),
            "--host", Host,
            "--port", Port.ToString(inv),
            "--mqtt-version", Version == MqttProtocolVersion.V500 ? "5" : "3.1.1",
            "--qos", ((int)Qos).ToString(inv),
            "--size", PayloadSize.ToString(inv),
            "--count", Count.ToString(inv),
            "--members", Members.ToString(inv),
            "--messages", Messages.ToString(inv),
            "--rate", Rate.ToString(inv),
            "--total-rate", TotalRate.ToString(inv),
            "--duration", Seconds(Duration),
            "--warmup", Seconds(Warmup),
            "--hold", Seconds(Hold),
            "--settle", Seconds(Settle),
            "--drain", Seconds(Drain),
            "--connect-rate", ConnectRate.ToString(inv),
            "--connect-concurrency", ConnectConcurrency.ToString(inv),
            "--keepalive", KeepAlive.ToString(inv),
            "--inflight", Inflight.ToString(inv),
            "--send-buffer", SendBuffer.ToString(inv),
            "--source-addresses", SourceAddresses.ToString(inv),
            "--source-offset", SourceOffset.ToString(inv),
            "--workers", Workers.ToString(inv),
            "--topic-prefix", TopicPrefix,
            "--client-prefix", ClientPrefix,
            "--reconnect-max-backoff", Seconds(ReconnectMaxBackoff),
        };
        if (Endpoints.Length > 0)
        {
            args.AddRange(["--endpoints", Endpoints]);
        }

        if (!Reconnect)
        {
            args.Add("--no-reconnect");
        }

        if (SubscriberOffset != 0)
        {
            args.AddRange(["--subscriber-offset", SubscriberOffset.ToString(inv)]);
        }

        if (SessionExpiry != 0)
        {
            args.AddRange(["--session-expiry", SessionExpiry.ToString(inv)]);
        }

        if (BrokerPids.Length > 0)
        {
            args.AddRange(["--broker-pids", BrokerPids]);
        }

        if (Topic.Length > 0)
        {
            args.AddRange(["--topic", Topic]);
        }

        if (Tls)
        {
            args.Add("--tls");
        }

        if (Insecure)
        {
            args.Add("--insecure");
        }

        if (WorkerIndex >= 0)
        {
            args.AddRange(["--worker-index", WorkerIndex.ToString(inv)]);
        }

        if (BrokerPid is { } pid)
        {
            args.AddRange(["--broker-pid", pid.ToString(inv)]);
        }

        if (IsMlp)
        {
            args.AddRange(["--concurrency", Concurrency.ToString(inv), "--management", Management, "--push-target", PushTarget == MlpPushTarget.All ? "all" : "one"]);
            if (MlpClient == MlpClientKind.Lean)
            {
                args.AddRange(["--mlp-client", "lean"]);
            }

            if (ManagementToken.Length > 0)
            {
                args.AddRange(["--management-token", ManagementToken]);
            }

            if (TokenSecret.Length > 0)
            {
                args.AddRange(["--token-secret", TokenSecret]);
            }

            if (UserPerDevice)
            {
                args.Add("--user-per-device");
            }

            if (FollowHome)
            {
                args.Add("--follow-home");
            }

            if (Compress)
            {
                args.Add("--compress");
            }
        }

        if (Interval > TimeSpan.Zero)
        {
            args.AddRange(["--interval", Seconds(Interval)]);
            if (IntervalLog.Length > 0)
            {
                args.AddRange(["--interval-log", IntervalLog]);
            }
        }

        if (Json)
        {
            args.Add("--json");
        }

        if (Quiet)
        {
            args.Add("--quiet");
        }

        return args;
    }

    public static string ScenarioName(ScenarioKind kind) => kind switch
    {
        ScenarioKind.Conn => "conn",
        ScenarioKind.Pub => "pub",
        ScenarioKind.Sub => "sub",
        ScenarioKind.P2p => "p2p",
        ScenarioKind.FanIn => "fan-in",
        ScenarioKind.FanOut => "fan-out",
        ScenarioKind.Shared => "shared",
        ScenarioKind.MlpRpc => "mlp-rpc",
        ScenarioKind.MlpPush => "mlp-push",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    private static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
}
