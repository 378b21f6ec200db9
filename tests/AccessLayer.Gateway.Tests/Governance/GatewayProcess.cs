using AccessLayer.Tests.Shared;
using System.Diagnostics;
using System.Globalization;
using AccessLayer.Gateway.Tests.Broker;

namespace AccessLayer.Gateway.Tests.Governance;

/// <summary>
/// The gateway as its own process (the AccessLayer.Gateway.dll in the test output), for figures
/// that must not include the test's own memory: resident set size read from /proc.
/// </summary>
internal sealed class GatewayProcess : IDisposable
{
    private readonly Process _process;

    private GatewayProcess(Process process, int mqttPort, int mqttTlsPort, int httpPort, int managementPort)
    {
        _process = process;
        MqttPort = mqttPort;
        MqttTlsPort = mqttTlsPort;
        HttpPort = httpPort;
        ManagementPort = managementPort;
    }

    public int MqttPort { get; }

    public int MqttTlsPort { get; }

    public int HttpPort { get; }

    /// <summary>The management surface (probes, metrics; admin routes with <see cref="GovernedGateway.AdminToken"/>).</summary>
    public int ManagementPort { get; }

    public static async Task<GatewayProcess> StartAsync(params string[] settings)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(settings);
            }
            catch (AddressTakenException) when (attempt < 5)
            {
                // A port picked free was taken before the gateway bound it (parallel tests): pick others.
            }
        }
    }

    private sealed class AddressTakenException(string message) : Exception(message);

    private static async Task<GatewayProcess> StartOnceAsync(string[] settings)
    {
        var mqttPort = FreePorts.Next();
        // The TLS listener opens only with a certificate: without one there is no TLS port to wait for.
        var tls = settings.Any(s => s.StartsWith("--Tls:CertificatePath=", StringComparison.Ordinal));
        var tlsPort = tls ? FreePorts.Next() : 0;
        var httpPort = FreePorts.Next();
        var managementPort = FreePorts.Next();
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var argument in (string[])
        [
            Path.Combine(AppContext.BaseDirectory, "AccessLayer.Gateway.dll"),
            $"--Mqtt:Port={mqttPort}", "--Mqtt:BindAddress=127.0.0.1", $"--Mqtt:TlsPort={tlsPort}",
            $"--Http:Port={httpPort}", "--Http:BindAddress=127.0.0.1", "--Http:TlsPort=0", "--Mlp:Port=0",
            $"--Management:Port={managementPort}", "--Management:BindAddress=127.0.0.1", $"--Management:Token={GovernedGateway.AdminToken}",
            "--Mqtt:SysInterval=0", "--Logging:LogLevel:Default=Warning",
            .. settings,
        ])
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the gateway");
        // The last lines of output go into the exception if the gateway dies before it is ready.
        var tail = OutputTail.Follow(process, 60);
        var gateway = new GatewayProcess(process, mqttPort, tlsPort, httpPort, managementPort);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < 200; i++)
        {
            if (process.HasExited)
            {
                process.WaitForExit();
                var output = tail.ToString();
                var message = $"gateway exited with {process.ExitCode}:{Environment.NewLine}{output}";
                throw output.Contains("address already in use", StringComparison.OrdinalIgnoreCase)
                    ? new AddressTakenException(message)
                    : new InvalidOperationException(message);
            }

            try
            {
                // Healthy over HTTP, and the MQTT listeners accept: the epoll engine's listener starts
                // apart from Kestrel's, so one being up says nothing of the other.
                if ((await http.GetAsync($"http://127.0.0.1:{managementPort}/healthz")).IsSuccessStatusCode
                    && await AcceptsAsync(mqttPort) && (!tls || await AcceptsAsync(tlsPort)))
                {
                    return gateway;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        gateway.Dispose();
        throw new TimeoutException("gateway did not become healthy");
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            await probe.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port));
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    /// <summary>VmRSS of the gateway process.</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException("no VmRSS");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }
}
