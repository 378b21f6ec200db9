using System.Net;
using System.Net.Sockets;
using AccessLayer.Bots.Cli;
using AccessLayer.Bots.Client;
using AccessLayer.Bots.Metrics;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Bots.Scenarios;

/// <summary>What one run shares between its scenario, the live progress view and the report.</summary>
public sealed class ScenarioRun
{
    private string _phase = "starting";

    public ScenarioRun(BotOptions options, TimeProvider time)
    {
        Options = options ?? throw new ArgumentNullException(nameof(options));
        Time = time ?? throw new ArgumentNullException(nameof(time));
    }

    public BotOptions Options { get; }

    public TimeProvider Time { get; }

    public BotStats Stats { get; } = new();

    /// <summary>What the run is doing now (connecting, publishing, draining, ...), for the live view.</summary>
    public string Phase
    {
        get => Volatile.Read(ref _phase);
        set => Volatile.Write(ref _phase, value);
    }

    /// <summary>Clients the scenario means to open (the live view's target).</summary>
    public int PlannedClients { get; set; }

    /// <summary>Connection settings for each broker of <see cref="BotOptions.Brokers"/>, in order.</summary>
    public static async Task<IReadOnlyList<BotConnectionSettings>> ResolveAsync(BotOptions options, bool releaseBuffersWhenIdle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var brokers = new List<BotConnectionSettings>(options.Brokers.Count);
        foreach (var broker in options.Brokers)
        {
            brokers.Add(await ResolveAsync(options, broker, releaseBuffersWhenIdle, cancellationToken));
        }

        return brokers;
    }

    /// <summary>How the run reconnects lost MQTT connections; null with --no-reconnect.</summary>
    public static ReconnectBackoff? ReconnectPolicy(BotOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Reconnect ? ReconnectBackoff.Default with { Max = options.ReconnectMaxBackoff } : null;
    }

    private static async Task<BotConnectionSettings> ResolveAsync(BotOptions options, BrokerEndpoint broker, bool releaseBuffersWhenIdle, CancellationToken cancellationToken)
    {
        if (!IPAddress.TryParse(broker.Host, out var address))
        {
            var addresses = await Dns.GetHostAddressesAsync(broker.Host, cancellationToken);
            address = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.First();
        }

        if (options.SourceAddresses > 0 && !(address.AddressFamily == AddressFamily.InterNetwork && IPAddress.IsLoopback(address)))
        {
            throw new ArgumentException("--source-addresses spreads over 127.0.0.x and needs a broker on IPv4 loopback.", nameof(options));
        }

        return new BotConnectionSettings
        {
            Broker = new IPEndPoint(address, broker.Port),
            TargetHost = broker.Host,
            Version = options.Version,
            Tls = options.Tls,
            Insecure = options.Insecure,
            KeepAliveSeconds = options.KeepAlive,
            Inflight = options.Inflight,
            SessionExpirySeconds = options.SessionExpiry,
            MaxPacketSize = Math.Max(1024 * 1024, options.PayloadSize + 1024),
            ReleaseBuffersWhenIdle = releaseBuffersWhenIdle,
            SendBufferBytes = options.SendBuffer,
        };
    }

    public string VersionName => Options.Version == MqttProtocolVersion.V500 ? "5.0" : "3.1.1";
}
