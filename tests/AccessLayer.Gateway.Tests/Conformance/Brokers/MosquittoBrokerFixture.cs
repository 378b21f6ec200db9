using AccessLayer.Gateway.Tests.Conformance.Harness;

namespace AccessLayer.Gateway.Tests.Conformance.Brokers;

/// <summary>Debian's mosquitto 2.0, the reference behaviour the suite is validated against.</summary>
public sealed class MosquittoBrokerFixture : BrokerFixture
{
    private string? _directory;

    public override string Name => "mosquitto";

    public override BrokerQuirks Quirks => BrokerQuirks.NoTakeoverDisconnect | BrokerQuirks.Qos2ReceiveMaximumOvershoot;

    private protected override ChildProcess Start(int mqttPort)
    {
        _directory = Directory.CreateTempSubdirectory("accesslayer-mosquitto-").FullName;
        var config = Path.Combine(_directory, "mosquitto.conf");
        File.WriteAllLines(config,
        [
            $"listener {mqttPort} 127.0.0.1",
            "allow_anonymous true",
            "persistence false",
            "max_queued_messages 1000",
            "set_tcp_nodelay true",
            "log_dest stdout",
            "log_type all",
            "connection_messages true",
        ]);
        // Line-buffered, so a test's output holds the broker's log up to the test's end.
        return ChildProcess.Start(Name, PeerPaths.Stdbuf, ["-oL", PeerPaths.Mosquitto, "-c", config], new ChildProcessOptions
        {
            Lifetime = Timeout.InfiniteTimeSpan,
            WorkingDirectory = _directory,
            DieWithTestHost = true,
        });
    }

    private protected override Task WaitUntilReadyAsync(ChildProcess process, int mqttPort) =>
        PollAsync(process, TimeSpan.FromSeconds(10), "accepting MQTT connections",
            ct => FreePort.AcceptsAsync(Host, mqttPort, ct));

    private protected override void Cleanup()
    {
        if (_directory is not null && Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }
}
