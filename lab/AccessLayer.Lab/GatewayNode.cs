using System.Diagnostics;
using System.Net.Sockets;

namespace AccessLayer.Lab;

/// <summary>
/// The gateway as a child process inside the gateway namespace (<c>ip netns exec G dotnet AccessLayer.Gateway.dll</c>),
/// as the test fixtures start it: MLP (TCP) and the device HTTP surface on every address of the namespace (both
/// mobile networks), management on the unimpaired mgmt address, anonymous devices, a fixed ticket secret so a
/// restarted node accepts the tickets of the one before, and every <c>shop</c> operation routed to the mock backend.
/// </summary>
internal sealed class GatewayNode : IDisposable
{
    public const string ManagementToken = "lab-management-token";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly LabTopology _topology;
    private readonly string _dll;
    private Process? _process;
    private int _expectedExits;

    public GatewayNode(LabTopology topology, string dll)
    {
        _topology = topology;
        _dll = dll;
    }

    /// <summary>Exits we did not cause (a crash): a scenario with one is broken.</summary>
    public int UnexpectedExits { get; private set; }

    public int Starts { get; private set; }

    public bool IsRunning => _process is { HasExited: false };

    public List<string> OutputTail { get; } = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var t = _topology;
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        string[] args =
        [
            "netns", "exec", t.GatewayNs, "dotnet", _dll,
            "--Mqtt:Port=0", "--Mqtt:SysInterval=0",
            $"--Mlp:Port={LabTopology.MlpPort}", "--Mlp:BindAddress=0.0.0.0",
            $"--Http:Port={LabTopology.HttpPort}", "--Http:BindAddress=0.0.0.0",
            $"--Management:Port={LabTopology.ManagementPort}", $"--Management:BindAddress={t.MgmtGatewayAddress}", $"--Management:Token={ManagementToken}",
            "--Mlp:AllowAnonymous=true", "--Mlp:TokenSecret=lab-token-secret-0123456789", "--Mlp:TicketSecret=lab-ticket-secret-0123456789",
            $"--Mlp:Routes:shop:Url=http://{t.MgmtClientAddress}:{LabTopology.BackendPort}/",
            "--Logging:LogLevel:Default=Warning",
            .. GatewayLossRecoveryArgs(),
        ];
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{LabTopology.HttpPort}";
        start.Environment["DOTNET_gcServer"] = "0";
        var process = Process.Start(start) ?? throw new InvalidOperationException("the gateway did not start.");
        _process = process;
        Starts++;
        DataReceivedEventHandler keep = (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (OutputTail)
            {
                OutputTail.Add(e.Data);
                if (OutputTail.Count > 40)
                    OutputTail.RemoveAt(0);
            }
        };
        process.OutputDataReceived += keep;
        process.ErrorDataReceived += keep;
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) =>
        {
            if (Interlocked.Decrement(ref _expectedExits) < 0)
            {
                Interlocked.Increment(ref _expectedExits);
                UnexpectedExits++;
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await WaitListeningAsync(t.MgmtGatewayAddress, LabTopology.ManagementPort, process, cancellationToken);
        await WaitListeningAsync(t.MgmtGatewayAddress, LabTopology.MlpPort, process, cancellationToken);
    }

    /// <summary>
    /// <c>LAB_GATEWAY_TCP_RTO_MIN_MS=n</c>: the gateway's <c>Mlp:TcpRtoMin</c> (0: the kernel's default and no thin-stream linear
    /// timeouts, the gateway's default); n > 0: that floor and the linear timeouts; unset: the gateway's default (off).
    /// </summary>
    public static readonly int? TcpRtoMinMs = int.TryParse(Environment.GetEnvironmentVariable("LAB_GATEWAY_TCP_RTO_MIN_MS"), out var ms) ? ms : null;

    private static string[] GatewayLossRecoveryArgs() => TcpRtoMinMs switch
    {
        null => [],
        0 => ["--Mlp:TcpRtoMin=00:00:00", "--Mlp:TcpThinLinearTimeouts=false"],
        var n => [$"--Mlp:TcpRtoMin={TimeSpan.FromMilliseconds(n.Value):c}", "--Mlp:TcpThinLinearTimeouts=true"],
    };

    /// <summary>SIGKILL: a crashed node; the kernel resets its connections (when the RST gets through).</summary>
    public void Kill()
    {
        if (_process is not { HasExited: false } process)
            return;
        Interlocked.Increment(ref _expectedExits);
        process.Kill(entireProcessTree: true);
        process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        Kill();
        _process?.Dispose();
    }

    private static async Task WaitListeningAsync(string host, int port, Process process, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < StartTimeout)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"the gateway exited with {process.ExitCode} while starting.");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(host, port, cancellationToken);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100, cancellationToken);
            }
        }

        throw new TimeoutException($"the gateway did not listen on {host}:{port} within {StartTimeout.TotalSeconds:0} s.");
    }
}
