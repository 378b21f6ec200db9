using System.Diagnostics;
using System.Globalization;
using AccessLayer.Gateway.Tests.Conformance.Harness;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Gateway.Tests.Fleet.Infrastructure;

/// <summary>
/// One gateway node of a <see cref="FleetCluster"/>: a real gateway process (<see cref="GatewayExecutable"/>)
/// on its own loopback ports, which it keeps across restarts. Every run's output is kept for failure messages.
/// </summary>
internal sealed class FleetNode : IAsyncDisposable
{
    /// <summary>Start to ready (probe, MQTT and MLP listeners): generous for three nodes starting at once on two busy cores.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>A graceful stop (drain, then exit) longer than this is a hang: the node is killed and the stop fails.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly IReadOnlyList<string> _settings;
    private readonly List<ChildProcess> _runs = [];
    private ChildProcess? _current;

    private FleetNode(int index, string managementToken, IReadOnlyList<string> settings)
    {
        Index = index;
        ManagementToken = managementToken;
        _settings = settings;
        PickPorts();
    }

    public int Index { get; }

    public string Name => $"node{Index}";

    public int MqttPort { get; private set; }

    public int MlpPort { get; private set; }

    public int HttpPort { get; private set; }

    public int ManagementPort { get; private set; }

    /// <summary>Node-to-node (Orleans silo) port, <c>Fleet:SiloPort</c>.</summary>
    public int SiloPort { get; private set; }

    public string ManagementToken { get; }

    public string MqttEndpoint => $"127.0.0.1:{MqttPort}";

    public string MlpEndpoint => $"127.0.0.1:{MlpPort}";

    public Uri ManagementUri => new($"http://127.0.0.1:{ManagementPort}/");

    /// <summary>The process of the current run, while it runs.</summary>
    public int? ProcessId => _current is { HasExited: false } current ? current.Id : null;

    public bool IsRunning => _current is { HasExited: false };

    /// <summary>Starts a node and waits until it is ready; picks other ports when one was taken meanwhile.</summary>
    public static async Task<FleetNode> StartAsync(int index, string managementToken, IReadOnlyList<string> settings)
    {
        var node = new FleetNode(index, managementToken, settings);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await node.RunAsync();
                return node;
            }
            catch (InvalidOperationException) when (attempt < 4 && node.LastRunSaid("address already in use"))
            {
                // A port picked free was taken before the node bound it (parallel tests): pick others.
                node.PickPorts();
            }
            catch
            {
                await node.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>
    /// SIGKILL: no drain, no goodbye to the fleet, sockets reset by the kernel (a crashed host, as its peers
    /// see it). Returns once the process is gone.
    /// </summary>
    public void KillHard()
    {
        if (_current is not { } current)
        {
            return;
        }

        current.Kill();
        if (!current.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            throw new TimeoutException($"{Name} (pid {current.Id}) still runs 10 s after SIGKILL");
        }
    }

    /// <summary>Kills the node if it runs, then starts it again on the same ports and waits until it is ready.</summary>
    public async Task RestartAsync()
    {
        if (_current is { HasExited: false } current)
        {
            current.Kill();
            await current.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        await RunAsync();
    }

    /// <summary>Graceful stop (SIGTERM: the host drains and leaves the fleet); bounded by <see cref="StopTimeout"/>.</summary>
    public async Task StopAsync()
    {
        if (_current is not { HasExited: false } current)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", current.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill!.WaitForExitAsync();
        }

        await current.WaitForExitAsync(StopTimeout);
    }

    /// <summary>True when a TCP connect to the node's MQTT port succeeds now.</summary>
    public Task<bool> AcceptsMqttAsync(CancellationToken cancellationToken = default) => FreePort.AcceptsAsync("127.0.0.1", MqttPort, cancellationToken);

    /// <summary>The node's recent output, every run of it, for a failure message.</summary>
    public string LogTail(int maxLines = 60)
    {
        ChildProcess[] runs;
        lock (_runs) runs = [.. _runs];
        return string.Join(Environment.NewLine, runs.Select((run, i) => run.TranscriptText(maxLines).Replace($"--- {run.Name} ", $"--- {Name} run {i + 1} ", StringComparison.Ordinal)));
    }

    public async ValueTask DisposeAsync()
    {
        ChildProcess[] runs;
        lock (_runs) runs = [.. _runs];
        await Task.WhenAll(runs.Select(r => r.DisposeAsync().AsTask()));
    }

    private bool LastRunSaid(string text) => _current?.TranscriptText(400).Contains(text, StringComparison.OrdinalIgnoreCase) == true;

    private void PickPorts()
    {
        MqttPort = FreePorts.Next();
        MlpPort = FreePorts.Next();
        HttpPort = FreePorts.Next();
        ManagementPort = FreePorts.Next();
        SiloPort = FreePorts.Next();
    }

    private async Task RunAsync()
    {
        var inv = CultureInfo.InvariantCulture;
        string[] arguments =
        [
            GatewayExecutable.Dll,
            $"--Mqtt:Port={MqttPort.ToString(inv)}", "--Mqtt:BindAddress=127.0.0.1", "--Mqtt:TlsPort=0",
            $"--Mlp:Port={MlpPort.ToString(inv)}", "--Mlp:BindAddress=127.0.0.1",
            $"--Http:Port={HttpPort.ToString(inv)}", "--Http:BindAddress=127.0.0.1", "--Http:TlsPort=0",
            $"--Management:Port={ManagementPort.ToString(inv)}", "--Management:BindAddress=127.0.0.1", $"--Management:Token={ManagementToken}",
            $"--Fleet:SiloPort={SiloPort.ToString(inv)}", "--Fleet:AdvertisedAddress=127.0.0.1",
            "--Mqtt:SysInterval=0", "--Logging:LogLevel:Default=Warning",
            .. _settings,
        ];
        var run = ChildProcess.Start(Name, GatewayExecutable.DotnetHost, arguments, new ChildProcessOptions
        {
            Lifetime = Timeout.InfiniteTimeSpan,
            WorkingDirectory = AppContext.BaseDirectory,
            DieWithTestHost = true,
            MaxTranscriptLines = 2_000,
            Environment = new Dictionary<string, string>
            {
                // Kestrel uses this only when the app binds no endpoint itself: it keeps the node off port 5000.
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{HttpPort.ToString(inv)}",
                ["DOTNET_NOLOGO"] = "1",
            },
        });
        lock (_runs) _runs.Add(run);
        _current = run;
        try
        {
            await WaitUntilReadyAsync(run);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            run.Kill();
            throw new InvalidOperationException($"{Name} did not become ready: {e.Message}{Environment.NewLine}{run.TranscriptText(80)}", e);
        }
    }

    private async Task WaitUntilReadyAsync(ChildProcess run)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var readyz = new Uri(ManagementUri, "readyz");
        var started = Wall.Now();
        await Poll.UntilAsync(run, StartTimeout, $"ready at {readyz}", ct => Poll.AnswersOkAsync(http, readyz, ct));

        // The MQTT listener (epoll engine) and MLP's start apart from the management surface's.
        var left = StartTimeout - Wall.Since(started);
        await Poll.UntilAsync(run, left > TimeSpan.FromSeconds(2) ? left : TimeSpan.FromSeconds(2), $"accepting MQTT on {MqttPort} and MLP on {MlpPort}", async ct =>
            await FreePort.AcceptsAsync("127.0.0.1", MqttPort, ct) && await FreePort.AcceptsAsync("127.0.0.1", MlpPort, ct));
    }
}
