using System.Net;
using System.Net.Sockets;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Mqtt;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Gateway.Tests.Broker;

/// <summary>
/// The real gateway (Kestrel, real sockets on loopback) hosted inside the test process, with a
/// fake clock so keep alive, expiry and will delay are driven by the test, not by waiting.
/// </summary>
internal sealed class InProcessGateway : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InProcessGateway(WebApplication app, int mqttPort, int httpPort, int managementPort, FakeTimeProvider time)
    {
        _app = app;
        MqttPort = mqttPort;
        HttpPort = httpPort;
        ManagementPort = managementPort;
        Time = time;
    }

    public int MqttPort { get; }

    public int HttpPort { get; }

    /// <summary>The management surface: /healthz, /readyz, /metrics (no token is configured, so its protected routes answer 403).</summary>
    public int ManagementPort { get; }

    public FakeTimeProvider Time { get; }

    public IServiceProvider Services => _app.Services;

    public MqttBroker Broker => _app.Services.GetRequiredService<MqttBroker>();

    public MqttBrokerMaintenance Maintenance => _app.Services.GetRequiredService<MqttBrokerMaintenance>();

    public static Task<InProcessGateway> StartAsync(params string[] settings) => StartAsync(null, settings);

    /// <param name="configureServices">Runs after the gateway's own registrations: replace a service.</param>
    public static async Task<InProcessGateway> StartAsync(Action<IServiceCollection>? configureServices, params string[] settings)
    {
        for (var attempt = 1; ; attempt++)
        {
            var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
            var mqttPort = FreePorts.Next();
            var httpPort = FreePorts.Next();
            var managementPort = FreePorts.Next();
            string[] args =
            [
                $"--Mqtt:Port={mqttPort}", "--Mqtt:BindAddress=127.0.0.1", "--Mlp:Port=0",
                $"--Http:Port={httpPort}", "--Http:BindAddress=127.0.0.1",
                $"--Management:Port={managementPort}", "--Management:BindAddress=127.0.0.1",
                "--Mqtt:SysInterval=0", "--Logging:LogLevel:Default=Warning",
                .. settings,
            ];
            var app = GatewayApp.Build(args, services =>
            {
                services.AddSingleton<TimeProvider>(time);
                configureServices?.Invoke(services);
            });
            try
            {
                await app.StartAsync();
                return new InProcessGateway(app, mqttPort, httpPort, managementPort, time);
            }
            catch (Exception ex) when (attempt < 5 && IsAddressInUse(ex))
            {
                // A port picked free was taken before the gateway bound it (parallel tests bind
                // port 0 and open client sockets all the time): pick others.
                await app.DisposeAsync();
            }
        }
    }

    private static bool IsAddressInUse(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is Microsoft.AspNetCore.Connections.AddressInUseException
                || exception is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
            {
                return true;
            }
        }

        return false;
    }

    public Task<RawMqttClient> ConnectClientAsync() => RawMqttClient.OpenAsync(MqttPort);

    /// <summary>Moves the fake clock and runs the once-a-second maintenance pass deterministically.</summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        Time.Advance(by);
        await Maintenance.RunOnceAsync();
    }


    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
