using AccessLayer.Gateway.Tests.Conformance.Brokers;
using AccessLayer.Gateway.Tests.Conformance.Harness;

namespace AccessLayer.Gateway.Tests.Conformance.Clients;

/// <summary>
/// A running <c>mosquitto_sub</c>: messages as JSON lines (<c>-F %j</c>) and debug lines
/// (<c>-d</c>) through line-buffered stdout, so "Subscribed" (its SUBACK) is a ready signal.
/// </summary>
internal sealed class MosquittoSubscriber
{
    private MosquittoSubscriber(ChildProcess process) => Process = process;

    public ChildProcess Process { get; }

    public IReadOnlyList<ReceivedMessage> Messages => Parse(Process.StdoutLines);

    /// <summary>
    /// Starts <c>mosquitto_sub -V version ... args</c>; unless told otherwise, returns once its
    /// SUBACK arrived, i.e. the broker holds the subscription.
    /// </summary>
    public static Task<MosquittoSubscriber> StartAsync(BrokerFixture broker, ProcessGroup group, string name, string version,
        IEnumerable<string> args, bool waitForSuback = true, TimeSpan? lifetime = null) =>
        StartAsync(broker.Host, broker.MqttPort, group, name, version, args, waitForSuback, lifetime);

    /// <summary>The same against any broker (a fleet node).</summary>
    public static async Task<MosquittoSubscriber> StartAsync(string host, int port, ProcessGroup group, string name, string version,
        IEnumerable<string> args, bool waitForSuback = true, TimeSpan? lifetime = null)
    {
        // libmosquitto 2.0.11 enforces an incoming QoS 2 quota of 20 that it does not advertise,
        // while a server assumes 65535 when none is advertised: advertise that default
        // explicitly so both sides count alike (Receive Maximum is tested with paho/mqtt.js).
        string[] quota = version == "mqttv5" ? ["-D", "connect", "receive-maximum", "65535"] : [];
        var process = group.Add(ChildProcess.Start(name, PeerPaths.Stdbuf,
            ["-oL", PeerPaths.MosquittoSub, "-h", host, "-p", $"{port}", "-V", version, "-F", "%j", "-d", .. quota, .. args],
            // mosquitto_sub reconnects forever: it must not outlive a crashed test host.
            new ChildProcessOptions { Lifetime = lifetime ?? Budget.ClientLifetime, DieWithTestHost = true }));
        var subscriber = new MosquittoSubscriber(process);
        if (waitForSuback) await subscriber.WaitForSubackAsync();
        return subscriber;
    }

    /// <summary>Waits for the next SUBACK and returns its granted QoS / reason codes.</summary>
    public async Task<IReadOnlyList<int>> WaitForSubackAsync(int occurrence = 1)
    {
        var lines = await Process.WaitForLinesAsync(
            all => all.Count(l => l.StartsWith("Subscribed (mid:", StringComparison.Ordinal)) >= occurrence,
            Budget.Wait, $"SUBACK #{occurrence}");
        var line = lines.Where(l => l.StartsWith("Subscribed (mid:", StringComparison.Ordinal)).ElementAt(occurrence - 1);
        return [.. line[(line.IndexOf("):", StringComparison.Ordinal) + 2)..].Split(',').Select(c => int.Parse(c.Trim()))];
    }

    public async Task<IReadOnlyList<ReceivedMessage>> WaitForMessagesAsync(Func<IReadOnlyList<ReceivedMessage>, bool> done, string what, TimeSpan? timeout = null) =>
        Parse(await Process.WaitForLinesAsync(lines => done(Parse(lines)), timeout ?? Budget.Wait, what));

    /// <summary>Waits for a message with this payload; returns every message up to and including it.</summary>
    public async Task<IReadOnlyList<ReceivedMessage>> WaitForPayloadAsync(string payload, TimeSpan? timeout = null)
    {
        var all = await WaitForMessagesAsync(m => m.Any(x => x.Payload == payload), $"a message '{payload}'", timeout);
        return [.. all.Take(all.ToList().FindIndex(x => x.Payload == payload) + 1)];
    }

    public Task<IReadOnlyList<ReceivedMessage>> WaitForCountAsync(int count, TimeSpan? timeout = null) =>
        WaitForMessagesAsync(m => m.Count >= count, $"{count} messages", timeout);

    /// <summary>How often this client sent CONNECT: more than once means it lost its connection.</summary>
    public int ConnectCount => CountConnects(Process.StdoutLines);

    public static int CountConnects(IReadOnlyList<string> lines) => lines.Count(l => l.EndsWith(" sending CONNECT", StringComparison.Ordinal));

    private static List<ReceivedMessage> Parse(IReadOnlyList<string> lines) =>
        [.. lines.Where(l => l.StartsWith('{')).Select(ReceivedMessage.FromMosquittoJson)];
}
