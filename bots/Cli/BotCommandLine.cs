using System.CommandLine;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Bots.Cli;

/// <summary>
/// The bots command line: one subcommand per scenario, every option shared (recursive from the root).
/// <see cref="TryBind"/> turns a parse into validated <see cref="BotOptions"/>.
/// </summary>
public sealed class BotCommandLine
{
    /// <summary>The command a user types: the .NET tool's command name (deploy/pack.sh).</summary>
    public const string ToolCommand = "accesslayer-bots";

    /// <summary>Every scenario: its subcommand, what it does, and an example command line (shown by --help).</summary>
    internal static readonly (string Name, ScenarioKind Kind, string Description, string Example)[] Scenarios =
    [
        ("conn", ScenarioKind.Conn, "Open --count connections at --connect-rate, hold them idle for --hold, close them; with --broker-pid, the broker's RSS per idle connection.",
            "conn --count 10000 --connect-rate 2000 --hold 30 --source-addresses 8"),
        ("pub", ScenarioKind.Pub, "--count publishers, each to its own topic (--topic with {i}); subscribers, if any, are elsewhere.",
            "pub --count 10 --rate 100 --topic devices/{i}/up --duration 30"),
        ("sub", ScenarioKind.Sub, "--count subscribers to --topic; counts and times what arrives (from pub or any publisher).",
            "sub --count 5 --topic devices/+/up --duration 30"),
        ("p2p", ScenarioKind.P2p, "--count pairs: publisher i to subscriber i, each pair on its own topic.",
            "p2p --count 100 --qos 1 --rate 50 --duration 30"),
        ("fan-in", ScenarioKind.FanIn, "--count publishers to one wildcard subscriber.",
            "fan-in --count 50 --qos 0 --duration 20"),
        ("fan-out", ScenarioKind.FanOut, "One publisher to --count subscribers of one topic.",
            "fan-out --count 200 --qos 1 --rate 100 --duration 20"),
        ("shared", ScenarioKind.Shared, "--count publishers to a $share group of --members subscribers.",
            "shared --count 10 --members 4 --qos 1 --rate 200 --duration 20"),
        ("mlp-rpc", ScenarioKind.MlpRpc, "MLP: --count connections calling the gateway's echo service, --concurrency calls in flight each (--messages per connection, --rate per connection).",
            "mlp-rpc --port 7000 --count 50 --concurrency 4 --duration 20"),
        ("mlp-push", ScenarioKind.MlpPush, "MLP: --count devices connected; POSTs to /api/v1/push on --management at --rate (--push-target one|all), timing delivery. The management token comes from --management-token or the Management__Token environment variable.",
            "mlp-push --port 7000 --count 100 --rate 200 --management http://127.0.0.1:8081/"),
    ];

    private readonly Option<string> _host = new("--host", "-H") { Description = "Broker host name or address.", DefaultValueFactory = _ => "127.0.0.1" };
    private readonly Option<int> _port = new("--port", "-p") { Description = "Broker port.", DefaultValueFactory = _ => 1883 };
    private readonly Option<string> _endpoints = new("--endpoints", "-E") { Description = "MQTT: several brokers, host:port,host:port,... (replaces --host/--port). Clients are spread over them; a lost connection moves to the next." };
    private readonly Option<bool> _noReconnect = new("--no-reconnect") { Description = "MQTT: leave a lost connection closed (default: reconnect it to the next broker, renewing its subscription)." };
    private readonly Option<double> _reconnectMaxBackoff = new("--reconnect-max-backoff") { Description = "MQTT: longest seconds between reconnect attempts (doubling from 0.1 s, jittered).", DefaultValueFactory = _ => 5 };
    private readonly Option<int> _subscriberOffset = new("--subscriber-offset") { Description = "MQTT: subscriber i connects to broker (i + K) mod N of --endpoints, publisher i to i mod N; 1 makes every p2p pair cross-node." };
    private readonly Option<uint> _sessionExpiry = new("--session-expiry") { Description = "MQTT: persistent sessions with this expiry in seconds (MQTT 5: Session Expiry Interval, resumed on reconnect; 3.1.1: clean session 0); 0 = clean sessions." };
    private readonly Option<string> _brokerPids = new("--broker-pids") { Description = "conn: more broker process ids, comma-separated (a fleet's nodes): their RSS is summed with --broker-pid's." };
    private readonly Option<bool> _tls = new("--tls") { Description = "Connect with TLS." };
    private readonly Option<bool> _insecure = new("--insecure") { Description = "With --tls: accept any server certificate." };
    private readonly Option<string> _version = new("--mqtt-version", "-V") { Description = "MQTT protocol version: 3.1.1 or 5.", DefaultValueFactory = _ => "3.1.1" };
    private readonly Option<int> _qos = new("--qos", "-q") { Description = "QoS of publishes and subscriptions: 0, 1 or 2." };
    private readonly Option<int> _size = new("--size", "-s") { Description = "Payload bytes (at least 8: the send timestamp).", DefaultValueFactory = _ => 64 };
    private readonly Option<int> _count = new("--count", "-c") { Description = "Connections / publishers / subscribers / pairs, by scenario.", DefaultValueFactory = _ => 10 };
    private readonly Option<int> _members = new("--members", "-m") { Description = "shared: members of the shared subscription group.", DefaultValueFactory = _ => 2 };
    private readonly Option<long> _messages = new("--messages", "-n") { Description = "Messages per publisher; 0 = until --duration ends." };
    private readonly Option<double> _rate = new("--rate", "-r") { Description = "Messages per second per publisher; 0 = as fast as possible." };
    private readonly Option<double> _totalRate = new("--total-rate") { Description = "Messages per second over all publishers (overrides --rate)." };
    private readonly Option<double> _duration = new("--duration", "-d") { Description = "Seconds of publishing (conn: connect phase + hold). Capped at 3600.", DefaultValueFactory = _ => 10 };
    private readonly Option<double> _warmup = new("--warmup", "-w") { Description = "Seconds at the start that are not measured.", DefaultValueFactory = _ => 1 };
    private readonly Option<double> _hold = new("--hold") { Description = "conn: seconds to hold the connections idle once established.", DefaultValueFactory = _ => 5 };
    private readonly Option<double> _settle = new("--settle") { Description = "conn with --broker-pid: seconds into the hold at which the broker's RSS is read (a broker may trim memory once a connect storm settles).", DefaultValueFactory = _ => 2 };
    private readonly Option<double> _drain = new("--drain") { Description = "Seconds to wait for messages in flight after publishing stops.", DefaultValueFactory = _ => 5 };
    private readonly Option<double> _connectRate = new("--connect-rate") { Description = "New connections per second (shared among --workers); 0 = unpaced.", DefaultValueFactory = _ => 1000 };
    private readonly Option<int> _connectConcurrency = new("--connect-concurrency") { Description = "Handshakes in progress at once (shared among --workers).", DefaultValueFactory = _ => 200 };
    private readonly Option<int> _keepAlive = new("--keepalive", "-k") { Description = "Keep alive seconds (PINGREQ when idle).", DefaultValueFactory = _ => 60 };
    private readonly Option<int> _inflight = new("--inflight") { Description = "QoS 1/2 publishes unacknowledged at once per publisher.", DefaultValueFactory = _ => 32 };
    private readonly Option<int> _sendBuffer = new("--send-buffer") { Description = "MQTT: SO_SNDBUF bytes of each client socket, bounding what an unpaced publisher queues in its own kernel (0: kernel autotuning, up to 4 MiB a socket, which a broker slower than the publishers turns into seconds of backlog ahead of the measured messages).", DefaultValueFactory = _ => BotOptions.DefaultSendBuffer };
    private readonly Option<int> _sourceAddresses = new("--source-addresses") { Description = "Spread sockets over this many loopback source addresses 127.0.0.2... (0: kernel's choice)." };
    private readonly Option<int> _sourceOffset = new("--source-offset") { Hidden = true };
    private readonly Option<int> _workers = new("--workers") { Description = "conn: child processes sharing --count (each process holds at most ~20,000 sockets).", DefaultValueFactory = _ => 1 };
    private readonly Option<int> _workerIndex = new("--worker-index") { Hidden = true, DefaultValueFactory = _ => -1 };
    private readonly Option<int?> _brokerPid = new("--broker-pid") { Description = "conn: broker process id; reports its RSS per idle connection." };
    private readonly Option<int> _concurrency = new("--concurrency") { Description = "mlp-rpc: calls in flight per connection; mlp-push: POSTs in flight.", DefaultValueFactory = _ => 1 };
    private readonly Option<string> _management = new("--management") { Description = "mlp-push: URL of the gateway's management surface (Management:Port: push API, /metrics).", DefaultValueFactory = _ => BotOptions.DefaultManagement };
    private readonly Option<int?> _httpPort = new("--http-port") { Hidden = true, Description = "Older form of --management: http://<--host>:PORT/." };
    private readonly Option<string> _managementToken = new("--management-token") { Description = "mlp-push: the management bearer token (Management:Token); default: the Management__Token environment variable.", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("Management__Token") ?? "" };
    private readonly Option<string> _pushTarget = new("--push-target") { Description = "mlp-push: one (a device per push, rotating) or all (every device, by a shared user id; needs --token-secret).", DefaultValueFactory = _ => "one" };
    private readonly Option<string> _mlpClient = new("--mlp-client") { Description = "mlp-rpc: sdk (the client SDK, one task per call) or lean (raw socket, pre-encoded pipelined requests, like h2load).", DefaultValueFactory = _ => "sdk" };
    private readonly Option<string> _tokenSecret = new("--token-secret") { Description = "MLP: the gateway's Mlp:TokenSecret, to mint device tokens (default: anonymous HELLOs)." };
    private readonly Option<bool> _followHome = new("--follow-home") { Description = "mlp-rpc --mlp-client lean: a device whose WELCOME names home endpoints (a gateway's Traffic:Steer) connects there instead, once, before its calls." };
    private readonly Option<bool> _userPerDevice = new("--user-per-device") { Description = "MLP: with --token-secret, every device's token names its own user id (default: one user for the run), so a traffic table spreads devices over its zones." };
    private readonly Option<bool> _compress = new("--compress") { Description = "MLP: announce zstd and compress bodies." };
    private readonly Option<bool> _json = new("--json") { Description = "Print one JSON object with the results (for scripts)." };
    private readonly Option<double> _interval = new("--interval") { Description = "Seconds per progress line: one JSON line per interval with its counts and latency percentiles (0: off)." };
    private readonly Option<string> _intervalLog = new("--interval-log") { Description = "File for the --interval lines (default: standard error)." };
    private readonly Option<bool> _quiet = new("--quiet") { Description = "No live progress." };
    private readonly Option<string?> _topicPrefix = new("--topic-prefix") { Description = "Topic prefix (default: bots/<random>, unique per run)." };
    private readonly Option<string> _topic = new("--topic") { Description = "pub: topic ({i} = publisher index); sub: topic filter." };
    private readonly Option<string> _clientPrefix = new("--client-prefix") { Description = "Client id prefix.", DefaultValueFactory = _ => "bot" };

    public BotCommandLine()
    {
        _version.AcceptOnlyFromAmong("3.1.1", "311", "4", "5", "5.0");
        _pushTarget.AcceptOnlyFromAmong("one", "all");
        _mlpClient.AcceptOnlyFromAmong("sdk", "lean");
        Root = new RootCommand(RootDescription());
        foreach (var option in AllOptions())
        {
            option.Recursive = true;
            Root.Add(option);
        }

        foreach (var (name, kind, description, example) in Scenarios)
        {
            var command = new Command(name, $"{description}\n\nExample:\n  {ToolCommand} {example}");
            command.SetAction((parseResult, cancellationToken) => Run?.Invoke(parseResult, cancellationToken) ?? Task.FromResult(1));
            _kinds[command] = kind;
            Root.Add(command);
        }
    }

    private readonly Dictionary<Command, ScenarioKind> _kinds = [];

    private static string RootDescription() =>
        "AccessLayer load-test bots: MQTT scenarios against any MQTT broker (host:port, or a fleet with --endpoints), "
        + "MLP scenarios against the AccessLayer gateway. Every option below applies to the scenarios it names (none named: all); "
        + "--json prints one JSON report for scripts. Each scenario is a command, listed at the end with an example "
        + $"({ToolCommand} SCENARIO --help for one alone). From a checkout: dotnet run -c Release --project bots -- SCENARIO [options]";

    public RootCommand Root { get; }

    /// <summary>What every scenario subcommand does once parsed (set by the program).</summary>
    public Func<ParseResult, CancellationToken, Task<int>>? Run { get; set; }

    /// <summary>Parses and binds in one step (tests, child processes).</summary>
    public bool TryParse(IReadOnlyList<string> args, out BotOptions? options, out IReadOnlyList<string> errors)
    {
        var parseResult = Root.Parse(args);
        return TryBind(parseResult, out options, out errors);
    }

    /// <summary>Validated options from a parse, or the reasons they are not valid.</summary>
    public bool TryBind(ParseResult parseResult, out BotOptions? options, out IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        options = null;
        var problems = parseResult.Errors.Select(e => e.Message).ToList();
        if (!_kinds.TryGetValue(parseResult.CommandResult.Command, out var kind))
        {
            problems.Add("Choose a scenario: " + string.Join(", ", Scenarios.Select(s => s.Name)) + $" ({ToolCommand} --help shows an example of each).");
        }

        if (problems.Count > 0)
        {
            errors = problems;
            return false;
        }

        var qos = parseResult.GetValue(_qos);
        var durationSeconds = parseResult.GetValue(_duration);
        var candidate = new BotOptions
        {
            Scenario = kind,
            Host = parseResult.GetValue(_host)!,
            Port = parseResult.GetValue(_port),
            Reconnect = !parseResult.GetValue(_noReconnect),
            ReconnectMaxBackoff = Seconds(parseResult.GetValue(_reconnectMaxBackoff)),
            SubscriberOffset = parseResult.GetValue(_subscriberOffset),
            SessionExpiry = parseResult.GetValue(_sessionExpiry),
            BrokerPids = parseResult.GetValue(_brokerPids) ?? "",
            Tls = parseResult.GetValue(_tls),
            Insecure = parseResult.GetValue(_insecure),
            Version = parseResult.GetValue(_version) is "5" or "5.0" ? MqttProtocolVersion.V500 : MqttProtocolVersion.V311,
            Qos = (MqttQualityOfService)Math.Clamp(qos, 0, 2),
            PayloadSize = parseResult.GetValue(_size),
            Count = parseResult.GetValue(_count),
            Members = parseResult.GetValue(_members),
            Messages = parseResult.GetValue(_messages),
            Rate = parseResult.GetValue(_rate),
            TotalRate = parseResult.GetValue(_totalRate),
            Duration = Seconds(Math.Min(durationSeconds, BotOptions.MaxDuration.TotalSeconds)),
            Warmup = Seconds(parseResult.GetValue(_warmup)),
            Hold = Seconds(parseResult.GetValue(_hold)),
            Settle = Seconds(parseResult.GetValue(_settle)),
            Drain = Seconds(parseResult.GetValue(_drain)),
            ConnectRate = parseResult.GetValue(_connectRate),
            ConnectConcurrency = parseResult.GetValue(_connectConcurrency),
            KeepAlive = (ushort)Math.Clamp(parseResult.GetValue(_keepAlive), 0, ushort.MaxValue),
            Inflight = parseResult.GetValue(_inflight),
            SendBuffer = parseResult.GetValue(_sendBuffer),
            SourceAddresses = parseResult.GetValue(_sourceAddresses),
            SourceOffset = parseResult.GetValue(_sourceOffset),
            Workers = parseResult.GetValue(_workers),
            WorkerIndex = parseResult.GetValue(_workerIndex),
            BrokerPid = parseResult.GetValue(_brokerPid),
            Concurrency = parseResult.GetValue(_concurrency),
            Management = parseResult.GetValue(_httpPort) is { } httpPort
                ? $"http://{ManagementHost(parseResult.GetValue(_host)!)}:{httpPort}/"
                : parseResult.GetValue(_management) ?? BotOptions.DefaultManagement,
            ManagementToken = parseResult.GetValue(_managementToken) ?? "",
            PushTarget = parseResult.GetValue(_pushTarget) == "all" ? MlpPushTarget.All : MlpPushTarget.One,
            MlpClient = parseResult.GetValue(_mlpClient) == "lean" ? MlpClientKind.Lean : MlpClientKind.Sdk,
            TokenSecret = parseResult.GetValue(_tokenSecret) ?? "",
            UserPerDevice = parseResult.GetValue(_userPerDevice),
            FollowHome = parseResult.GetValue(_followHome),
            Compress = parseResult.GetValue(_compress),
            Json = parseResult.GetValue(_json),
            Interval = Seconds(parseResult.GetValue(_interval)),
            IntervalLog = parseResult.GetValue(_intervalLog) ?? "",
            Quiet = parseResult.GetValue(_quiet),
            Topic = parseResult.GetValue(_topic) ?? "",
            ClientPrefix = parseResult.GetValue(_clientPrefix)!,
        };
        // MLP scenarios talk to the gateway's MLP listener unless told otherwise.
        if (candidate.IsMlp && parseResult.GetResult(_port) is not { Implicit: false })
        {
            candidate = candidate with { Port = 7000 };
        }

        if (parseResult.GetValue(_topicPrefix) is { Length: > 0 } prefix)
        {
            candidate = candidate with { TopicPrefix = prefix };
        }

        if (parseResult.GetValue(_endpoints) is { Length: > 0 } endpoints)
        {
            if (BrokerEndpoint.TryParseList(endpoints, out var brokers, out var invalid))
            {
                candidate = candidate with { Endpoints = string.Join(',', brokers) };
            }
            else
            {
                problems.Add($"--endpoints takes host:port,host:port,... ({invalid ?? "none given"} is not host:port).");
            }
        }

        problems.AddRange(Validate(candidate, qos, durationSeconds));
        errors = problems;
        if (problems.Count > 0)
        {
            return false;
        }

        options = candidate;
        return true;
    }

    private static IEnumerable<string> Validate(BotOptions o, int qos, double durationSeconds)
    {
        if (qos is < 0 or > 2)
        {
            yield return "--qos must be 0, 1 or 2.";
        }

        if (o.Port is < 1 or > 65535)
        {
            yield return "--port must be 1..65535.";
        }

        if (o.PayloadSize is < 8 or > 16 * 1024 * 1024)
        {
            yield return "--size must be 8..16777216 bytes (the first 8 carry the send timestamp).";
        }

        if (o.Count < 1)
        {
            yield return "--count must be at least 1.";
        }

        if (o.Members < 1)
        {
            yield return "--members must be at least 1.";
        }

        if (o.Messages < 0 || o.Rate < 0 || o.TotalRate < 0 || o.ConnectRate < 0)
        {
            yield return "--messages, --rate, --total-rate and --connect-rate must not be negative.";
        }

        if (durationSeconds <= 0 || double.IsNaN(durationSeconds))
        {
            yield return "--duration must be positive.";
        }

        if (o.Warmup < TimeSpan.Zero || o.Hold < TimeSpan.Zero || o.Settle < TimeSpan.Zero || o.Drain < TimeSpan.Zero)
        {
            yield return "--warmup, --hold, --settle and --drain must not be negative.";
        }

        if (o.Warmup >= o.Duration && o.Scenario != ScenarioKind.Conn)
        {
            yield return "--warmup must be shorter than --duration.";
        }

        if (o.ConnectConcurrency < 1 || o.Inflight is < 1 or > 65_000)
        {
            yield return "--connect-concurrency must be at least 1 and --inflight 1..65000.";
        }

        if (o.SendBuffer is < 0 or > 64 * 1024 * 1024)
        {
            yield return "--send-buffer must be 0..67108864 bytes (0: kernel autotuning).";
        }

        if (o.SourceAddresses is < 0 or > 65_000 || o.SourceOffset < 0)
        {
            yield return "--source-addresses must be 0..65000.";
        }

        if (o.Workers is < 1 or > 64)
        {
            yield return "--workers must be 1..64.";
        }

        if (o.Workers > 1 && o.Scenario != ScenarioKind.Conn)
        {
            yield return "--workers applies to the conn scenario only.";
        }

        if (o.Workers > o.Count)
        {
            yield return "--workers must not exceed --count.";
        }

        if (o.Insecure && !o.Tls)
        {
            yield return "--insecure needs --tls.";
        }

        if (o.Concurrency is < 1 or > 10_000)
        {
            yield return "--concurrency must be 1..10000.";
        }

        if (!Uri.TryCreate(o.Management, UriKind.Absolute, out var management) || (management.Scheme != Uri.UriSchemeHttp && management.Scheme != Uri.UriSchemeHttps) || management.Port < 1)
        {
            yield return "--management must be an http:// or https:// URL (the gateway's Management:Port).";
        }

        if (o.UserPerDevice && o.TokenSecret.Length == 0)
        {
            yield return "--user-per-device names a user in each device token: give --token-secret (the gateway's Mlp:TokenSecret).";
        }

        if (o.Scenario == ScenarioKind.MlpPush && o.PushTarget == MlpPushTarget.All && o.TokenSecret.Length == 0)
        {
            yield return "--push-target all addresses the devices by a shared user id: give --token-secret (the gateway's Mlp:TokenSecret).";
        }

        if (o.Interval < TimeSpan.Zero || (o.Interval > TimeSpan.Zero && o.Interval < TimeSpan.FromMilliseconds(100)))
        {
            yield return "--interval must be 0 (off) or at least 0.1 seconds.";
        }

        if (o.IntervalLog.Length > 0 && o.Interval == TimeSpan.Zero)
        {
            yield return "--interval-log needs --interval.";
        }

        if (o.Endpoints.Length > 0 && o.IsMlp)
        {
            yield return "--endpoints applies to the MQTT scenarios; MLP scenarios take --host and --port.";
        }

        if (o.ReconnectMaxBackoff < TimeSpan.FromMilliseconds(100) || o.ReconnectMaxBackoff > TimeSpan.FromMinutes(5))
        {
            yield return "--reconnect-max-backoff must be 0.1..300 seconds.";
        }

        if (o.BrokerPid is <= 0)
        {
            yield return "--broker-pid must be a process id.";
        }

        if (o.BrokerPids.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Any(p => !int.TryParse(p, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid) || pid <= 0))
        {
            yield return "--broker-pids takes process ids, comma-separated.";
        }

        if (o.SubscriberOffset < 0)
        {
            yield return "--subscriber-offset must not be negative.";
        }
    }

    private static string ManagementHost(string host) => host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;

    private static TimeSpan Seconds(double value) =>
        double.IsFinite(value) ? TimeSpan.FromMilliseconds(Math.Round(value * 1000)) : TimeSpan.Zero;

    private IEnumerable<Option> AllOptions() =>
    [
        _host, _port, _endpoints, _subscriberOffset, _sessionExpiry, _brokerPids, _noReconnect, _reconnectMaxBackoff, _tls, _insecure, _version, _qos, _size, _count, _members, _messages, _rate, _totalRate,
        _duration, _warmup, _hold, _settle, _drain, _connectRate, _connectConcurrency, _keepAlive, _inflight, _sendBuffer,
        _sourceAddresses, _sourceOffset, _workers, _workerIndex, _brokerPid, _concurrency, _management, _httpPort, _managementToken, _pushTarget, _mlpClient, _tokenSecret, _userPerDevice, _followHome, _compress, _json, _interval, _intervalLog, _quiet, _topicPrefix, _topic,
        _clientPrefix,
    ];
}
