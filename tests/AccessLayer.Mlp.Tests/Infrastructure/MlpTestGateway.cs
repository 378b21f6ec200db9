using System.Net;
using System.Net.Sockets;
using System.Text;
using AccessLayer.Client;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Mlp;
using AccessLayer.Gateway.Mlp.Connections;
using AccessLayer.Gateway.Mlp.Push;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Mlp.Tests.Infrastructure;

/// <summary>
/// The real gateway (Kestrel, real sockets on loopback) in the test process: MLP on a free TCP port,
/// the device HTTP surface (WebSocket, fallback, dictionaries) on another, the management surface
/// (push API, reload, metrics) on a third with <see cref="ManagementToken"/>, MQTT off, a fake clock for timeouts.
/// </summary>
internal sealed class MlpTestGateway : IAsyncDisposable
{
    public const string TokenSecret = "test-token-secret";

    public const string ManagementToken = "test-management-token";

    private readonly WebApplication _app;

    private MlpTestGateway(WebApplication app, int mlpPort, int httpPort, int managementPort, FakeTimeProvider time)
    {
        _app = app;
        MlpPort = mlpPort;
        HttpPort = httpPort;
        ManagementPort = managementPort;
        Time = time;
    }

    public int MlpPort { get; }

    public int HttpPort { get; }

    public int ManagementPort { get; }

    public FakeTimeProvider Time { get; }

    public IServiceProvider Services => _app.Services;

    public MlpConnectionRegistry Connections => Services.GetRequiredService<MlpConnectionRegistry>();

    public IMlpSessionStore Sessions => Services.GetRequiredService<IMlpSessionStore>();

    public Uri TcpEndpoint => new($"tcp://127.0.0.1:{MlpPort}");

    public Uri WebSocketEndpoint => new($"ws://127.0.0.1:{HttpPort}/mlp");

    public Uri HttpBase => new($"http://127.0.0.1:{HttpPort}/");

    public Uri ManagementBase => new($"http://127.0.0.1:{ManagementPort}/");

    public static async Task<MlpTestGateway> StartAsync(string[]? settings = null, Action<IServiceCollection>? services = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryStartAsync(settings, services);
            }
            catch (IOException) when (attempt < 5)
            {
                // A port picked free was taken before the gateway bound it (parallel tests): pick others.
            }
        }
    }

    private static async Task<MlpTestGateway> TryStartAsync(string[]? settings, Action<IServiceCollection>? services)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var mlpPort = FreePorts.Next();
        var httpPort = FreePorts.Next();
        var managementPort = FreePorts.Next();
        string[] args =
        [
            "--Mqtt:Port=0", $"--Mlp:Port={mlpPort}", "--Mlp:BindAddress=127.0.0.1",
            $"--Http:Port={httpPort}", "--Http:BindAddress=127.0.0.1",
            $"--Management:Port={managementPort}", "--Management:BindAddress=127.0.0.1", $"--Management:Token={ManagementToken}",
            $"--Mlp:TokenSecret={TokenSecret}", "--Mlp:TicketSecret=test-ticket-secret",
            "--Mqtt:SysInterval=0", "--Logging:LogLevel:Default=Warning",
            .. settings ?? [],
        ];
        var app = GatewayApp.Build(args, s =>
        {
            s.AddSingleton<TimeProvider>(time);
            services?.Invoke(s);
        });
        try
        {
            await app.StartAsync();
        }
        catch (IOException)
        {
            await app.DisposeAsync();
            throw;
        }

        return new MlpTestGateway(app, mlpPort, httpPort, managementPort, time);
    }

    /// <summary>A device token signed with the gateway's secret, valid for an hour of fake time.</summary>
    public string TokenFor(string deviceId, string userId = "user-1") =>
        MlpDeviceToken.Create(new DeviceTokenPayload
        {
            DeviceId = deviceId,
            UserId = userId,
            IssuedAtUnixS = Time.GetUtcNow().ToUnixTimeSeconds(),
            ExpiresAtUnixS = Time.GetUtcNow().AddHours(1).ToUnixTimeSeconds(),
        }, Encoding.UTF8.GetBytes(TokenSecret));

    /// <param name="endpoint">The long link's endpoint (a <see cref="LoopbackRelay"/>'s, for a path the test breaks); the gateway's by default.</param>
    /// <param name="fallback">A relay in front of the HTTP port for the fallback (one that crosses the same path); the gateway's by default.</param>
    /// <param name="time">The client's clock (the tests' fake one); the system's by default.</param>
    public MlpClientOptions ClientOptions(string deviceId, string userId = "user-1", Uri? endpoint = null, LoopbackRelay? fallback = null, TimeProvider? time = null) => new()
    {
        Endpoint = endpoint ?? TcpEndpoint,
        HttpFallbackEndpoint = fallback is null ? HttpBase : new Uri($"http://127.0.0.1:{fallback.Port}/"),
        TimeProvider = time ?? TimeProvider.System,
        DeviceId = deviceId,
        DeviceToken = TokenFor(deviceId, userId),
        EnableHeartbeat = false,
        // Tests reconnect by hand where they mean to; the weak-network tests turn this back on.
        WeakNetwork = new MlpWeakNetworkOptions { AutoReconnect = false },
        DefaultTimeout = TimeSpan.FromSeconds(20),
    };

    public Task<RawMlpConnection> OpenRawAsync(int receiveBufferSize = 0) => RawMlpConnection.OpenAsync(MlpPort, receiveBufferSize);

    public int RunMaintenance() => Services.GetRequiredService<MlpMaintenance>().RunOnce();

    /// <summary>Waits (bounded, real time) until the gateway sees <paramref name="count"/> open connections.</summary>
    public async Task WaitForConnectionsAsync(int count)
    {
        for (var i = 0; i < 500 && Connections.All.Count() != count; i++)
            await Task.Delay(10);
        Assert.Equal(count, Connections.All.Count());
    }

    /// <summary>An HTTP client for the management surface that sends <see cref="ManagementToken"/>.</summary>
    public HttpClient CreateManagementClient()
    {
        var http = new HttpClient { BaseAddress = ManagementBase };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ManagementToken);
        return http;
    }

    public async Task<HttpResponseMessage> PushAsync(string json)
    {
        using var http = CreateManagementClient();
        return await http.PostAsync(new Uri("api/v1/push", UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"));
    }


    /// <summary>Stops the gateway; a test that stops one mid-way (a site going away) leaves the fixture's own dispose harmless.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private int _disposed;
}
