using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Bots.Tests.EndToEnd;

/// <summary>
/// Our gateway as a child process on free loopback ports (MLP, device HTTP and management HTTP with
/// <see cref="ManagementToken"/>; MQTT when asked for), anonymous devices allowed and a token secret set, stopped on dispose. The gateway DLL is in the test output (project reference).
/// </summary>
public sealed class GatewayProcess : IDisposable
{
    public const string TokenSecret = "bots-test-secret";
    public const string ManagementToken = "bots-management-token";
    // As the fleet fixtures allow: a loaded CI machine (two cores, other suites starting processes) can take this long.
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly OutputTail _output;

    public GatewayProcess()
        : this(mqtt: false)
    {
    }

    /// <param name="mqtt">Open the plain-TCP MQTT listener too (<see cref="MqttPort"/>).</param>
    public GatewayProcess(bool mqtt)
    {
        MqttPort = mqtt ? FreePorts.Next() : 0;
        MlpPort = FreePorts.Next();
        HttpPort = FreePorts.Next();
        ManagementPort = FreePorts.Next();
        var dll = Path.Combine(AppContext.BaseDirectory, "AccessLayer.Gateway.dll");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet, [dll, $"--Mqtt:Port={MqttPort}", "--Mqtt:BindAddress=127.0.0.1", "--Mqtt:SysInterval=0", $"--Mlp:Port={MlpPort}", "--Mlp:BindAddress=127.0.0.1", $"--Http:Port={HttpPort}", "--Http:BindAddress=127.0.0.1",
            $"--Management:Port={ManagementPort}", "--Management:BindAddress=127.0.0.1", $"--Management:Token={ManagementToken}",
            "--Mlp:AllowAnonymous=true", $"--Mlp:TokenSecret={TokenSecret}", "--Logging:LogLevel:Default=Warning"])
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // Kestrel falls back to this only when the app binds nothing itself: it keeps the host off port 5000.
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{HttpPort}";
        _process = Process.Start(start) ?? throw new InvalidOperationException("the gateway did not start.");
        _output = OutputTail.Follow(_process, 40);
        try
        {
            WaitUntilListening(MlpPort);
            WaitUntilListening(HttpPort);
            WaitUntilListening(ManagementPort);
            if (mqtt)
            {
                WaitUntilListening(MqttPort);
            }
        }
        catch
        {
            // The constructor throws, so nobody will dispose this: the child must not outlive the test.
            Dispose();
            throw;
        }
    }

    /// <summary>0 when MQTT is off.</summary>
    public int MqttPort { get; }

    public int MlpPort { get; }

    public int HttpPort { get; }

    public int ManagementPort { get; }

    /// <summary>SIGKILL: the kernel resets every connection, nothing is said to the clients (a crashed node).</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit(5000);
    }

    /// <summary>MQTT clients connected now whose id starts with <paramref name="prefix"/> (admin API, <c>GET /api/v1/clients</c>).</summary>
    public async Task<int> ConnectedClientsAsync(string prefix)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{ManagementPort}/api/v1/clients?prefix={Uri.EscapeDataString(prefix)}&pageSize=1");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ManagementToken);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using var page = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return page.RootElement.GetProperty("total").GetInt32();
    }

    public void Dispose()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }

        _process.Dispose();
    }


    private void WaitUntilListening(int port)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartTimeout)
        {
            if (_process.HasExited)
            {
                _process.WaitForExit(); // the rest of its output, for the message
                throw new InvalidOperationException($"the gateway exited with {_process.ExitCode}:{Environment.NewLine}{_output}");
            }

            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                // Not listening yet: a real process needs a moment.
                Thread.Sleep(50);
            }
        }

        throw new TimeoutException($"the gateway did not listen on {port} within {StartTimeout.TotalSeconds:0} s.");
    }
}

public sealed class GatewayFixture : IDisposable
{
    public GatewayProcess Gateway { get; } = new();

    public void Dispose() => Gateway.Dispose();
}
