using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AccessLayer.Bots.Tests.EndToEnd;

/// <summary>
/// Our gateway as a child process on free loopback ports (MLP, device HTTP and management HTTP with
/// <see cref="ManagementToken"/>; MQTT off), anonymous devices allowed and a token secret set, stopped on dispose. The gateway DLL is in the test output (project reference).
/// </summary>
public sealed class GatewayProcess : IDisposable
{
    public const string TokenSecret = "bots-test-secret";
    public const string ManagementToken = "bots-management-token";
    private readonly Process _process;

    public GatewayProcess()
    {
        MlpPort = FreePort();
        HttpPort = FreePort();
        ManagementPort = FreePort();
        var dll = Path.Combine(AppContext.BaseDirectory, "AccessLayer.Gateway.dll");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet, [dll, "--Mqtt:Port=0", $"--Mlp:Port={MlpPort}", "--Mlp:BindAddress=127.0.0.1", $"--Http:Port={HttpPort}", "--Http:BindAddress=127.0.0.1",
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
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitUntilListening(MlpPort);
        WaitUntilListening(HttpPort);
        WaitUntilListening(ManagementPort);
    }

    public int MlpPort { get; }

    public int HttpPort { get; }

    public int ManagementPort { get; }

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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void WaitUntilListening(int port)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the gateway exited with {_process.ExitCode}.");
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

        throw new TimeoutException($"the gateway did not listen on {port} within 20 s.");
    }
}

public sealed class GatewayFixture : IDisposable
{
    public GatewayProcess Gateway { get; } = new();

    public void Dispose() => Gateway.Dispose();
}
