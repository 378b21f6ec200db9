using AccessLayer.Gateway.Tests.Conformance.Harness;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Gateway.Tests.Conformance.Brokers;

/// <summary>Our gateway as a real process (<see cref="GatewayExecutable"/>).</summary>
public sealed class GatewayBrokerFixture : BrokerFixture
{
    // As the fleet fixtures allow: a loaded CI machine (two cores, other suites starting processes) can take this long.
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    public override string Name => "gateway";

    public int HttpPort { get; private set; }

    /// <summary>The management surface (<c>/healthz</c>, <c>/metrics</c>).</summary>
    public int ManagementPort { get; private set; }

    private protected override ChildProcess Start(int mqttPort)
    {
        HttpPort = FreePorts.Next();
        ManagementPort = FreePorts.Next();
        return ChildProcess.Start(Name, GatewayExecutable.DotnetHost, [GatewayExecutable.Dll, $"--Mqtt:Port={mqttPort}", $"--Http:Port={HttpPort}", $"--Management:Port={ManagementPort}", "--Mlp:Port=0"], new ChildProcessOptions
        {
            Lifetime = Timeout.InfiniteTimeSpan,
            WorkingDirectory = AppContext.BaseDirectory,
            DieWithTestHost = true,
            Environment = new Dictionary<string, string>
            {
                // Kestrel uses this only when the app binds no endpoint itself; it keeps a
                // host that ignores --Http:Port off the shared default port 5000.
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{HttpPort}",
                ["DOTNET_NOLOGO"] = "1",
            },
        });
    }

    private protected override async Task WaitUntilReadyAsync(ChildProcess process, int mqttPort)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var healthz = new Uri($"http://127.0.0.1:{ManagementPort}/healthz");
        var started = Wall.Now();
        await PollAsync(process, StartTimeout, $"healthy at {healthz}", ct => Poll.AnswersOkAsync(http, healthz, ct));
        var left = StartTimeout - Wall.Since(started);
        await PollAsync(process, left > TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1), $"accepting MQTT on port {mqttPort} (healthz was OK)",
            ct => FreePort.AcceptsAsync(Host, mqttPort, ct));
    }
}
