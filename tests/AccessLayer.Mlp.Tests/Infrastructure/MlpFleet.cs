using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AccessLayer.Client;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Mlp.Tests.Infrastructure;

/// <summary>
/// A fleet on loopback: a real <c>redis-server</c> and <see cref="NodeCount"/> gateway processes (the
/// AccessLayer.Gateway.dll in the test output) joined through it, each with MLP, device HTTP and management
/// ports of its own, one token secret and one ticket secret (so a device token or resume ticket from one
/// node is good on every node). Shared by a test class; tests keep apart by device and user ids.
/// </summary>
public sealed class MlpFleet : IAsyncLifetime
{
    public const int NodeCount = 3;
    public const string ManagementToken = "fleet-management-token";
    private const string TokenSecret = "fleet-token-secret";

    private RedisServerProcess? _redis;

    public IReadOnlyList<Node> Nodes { get; private set; } = [];

    public async Task InitializeAsync()
    {
        _redis = await RedisServerProcess.StartAsync();
        var starting = new List<Task<Node>>();
        for (var i = 0; i < NodeCount; i++)
            starting.Add(Node.StartAsync(i + 1, _redis.Endpoint));
        try
        {
            Nodes = await Task.WhenAll(starting);
        }
        catch
        {
            // Whether or not the runner disposes a fixture whose start threw, the nodes that did start and Redis must not outlive it.
            foreach (var started in starting.Where(t => t.IsCompletedSuccessfully))
                started.Result.Dispose();
            await _redis.DisposeAsync();
            _redis = null;
            throw;
        }

        // Every node sees every other as an active member before a test relies on routing between them.
        foreach (var node in Nodes)
            await Eventually.TrueAsync(async () => await node.ActiveMembersAsync() == NodeCount, $"node {node.Number} sees the fleet", 60_000);
    }

    public async Task DisposeAsync()
    {
        foreach (var node in Nodes)
            node.Dispose();
        if (_redis is not null)
            await _redis.DisposeAsync();
    }

    /// <summary>Client options for a device on <paramref name="node"/>, with a device token valid for an hour.</summary>
    public static MlpClientOptions ClientOptions(Node node, string deviceId, string userId) => new()
    {
        Endpoint = new Uri($"tcp://127.0.0.1:{node.MlpPort}"),
        DeviceId = deviceId,
        DeviceToken = MlpDeviceToken.Create(new DeviceTokenPayload
        {
            DeviceId = deviceId,
            UserId = userId,
            IssuedAtUnixS = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(),
            ExpiresAtUnixS = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(),
        }, Encoding.UTF8.GetBytes(TokenSecret)),
        EnableHeartbeat = false,
        // Tests reconnect by hand where they mean to; the weak-network tests turn this back on.
        WeakNetwork = new MlpWeakNetworkOptions { AutoReconnect = false },
        DefaultTimeout = TimeSpan.FromSeconds(20),
    };

    /// <summary>One gateway process of the fleet.</summary>
    public sealed class Node : IDisposable
    {
        private readonly Process _process;
        private readonly OutputTail _output;

        private Node(int number, Process process, OutputTail output, int mlpPort, int managementPort)
        {
            Number = number;
            _process = process;
            _output = output;
            MlpPort = mlpPort;
            ManagementPort = managementPort;
            Management = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{managementPort}/"), Timeout = TimeSpan.FromSeconds(30) };
            Management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ManagementToken);
        }

        public int Number { get; }

        public int MlpPort { get; }

        public int ManagementPort { get; }

        public HttpClient Management { get; }

        /// <summary>The last lines the process wrote, for a failing assertion's message.</summary>
        public string Output => _output.ToString();

        internal static async Task<Node> StartAsync(int number, string redis)
        {
            var mlpPort = FreePorts.Next();
            var httpPort = FreePorts.Next();
            var managementPort = FreePorts.Next();
            var siloPort = FreePorts.Next();
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
                $"--Fleet:Redis={redis}", $"--Fleet:SiloPort={siloPort}",
                "--Mqtt:Port=0", "--Mqtt:TlsPort=0", "--Mqtt:SysInterval=0",
                $"--Mlp:Port={mlpPort}", "--Mlp:BindAddress=127.0.0.1", $"--Mlp:TokenSecret={TokenSecret}", "--Mlp:TicketSecret=fleet-ticket-secret",
                $"--Http:Port={httpPort}", "--Http:BindAddress=127.0.0.1", "--Http:TlsPort=0",
                $"--Management:Port={managementPort}", "--Management:BindAddress=127.0.0.1", $"--Management:Token={ManagementToken}",
                "--Logging:LogLevel:Default=Warning",
            ])
            {
                start.ArgumentList.Add(argument);
            }

            var process = Process.Start(start) ?? throw new InvalidOperationException("the gateway did not start.");
            var output = OutputTail.Follow(process, 200);
            var node = new Node(number, process, output, mlpPort, managementPort);
            using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            for (var i = 0; i < 600; i++)
            {
                if (process.HasExited)
                    throw new InvalidOperationException($"gateway {number} exited with {process.ExitCode}:{Environment.NewLine}{node.Output}");
                try
                {
                    if ((await probe.GetAsync($"http://127.0.0.1:{managementPort}/readyz")).IsSuccessStatusCode)
                        return node;
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException)
                {
                }

                await Task.Delay(100);
            }

            node.Dispose();
            throw new TimeoutException($"gateway {number} did not become ready:{Environment.NewLine}{node.Output}");
        }

        public async Task<int> ActiveMembersAsync()
        {
            using var answer = await Management.GetAsync(new Uri("api/v1/fleet/nodes", UriKind.Relative));
            using var json = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
            return json.RootElement.GetProperty("nodes").GetArrayLength();
        }

        /// <summary>POST /api/v1/push on this node; the status and the JSON answer.</summary>
        public async Task<(System.Net.HttpStatusCode Status, string Body)> PushAsync(string json)
        {
            using var answer = await Management.PostAsync(new Uri("api/v1/push", UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"));
            return (answer.StatusCode, await answer.Content.ReadAsStringAsync());
        }

        /// <summary>The value of a counter in this node's /metrics (0 when absent).</summary>
        public async Task<double> MetricAsync(string name)
        {
            var text = await Management.GetStringAsync(new Uri("metrics", UriKind.Relative));
            var total = 0.0;
            foreach (var line in text.Split('\n'))
            {
                if (line.StartsWith(name, StringComparison.Ordinal) && (line.Length == name.Length || line[name.Length] is ' ' or '{'))
                    total += double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }

            return total;
        }

        public void Dispose()
        {
            Management.Dispose();
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
            }

            _process.Dispose();
        }
    }
}
