using System.Globalization;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Mqtt;
using AccessLayer.Gateway.Tests.Broker;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Gateway.Tests.Governance;

/// <summary>
/// The real gateway in-process (like <see cref="InProcessGateway"/>) with what governance tests
/// need besides: TLS ports, the management port and its token, service overrides, and a /metrics reader.
/// </summary>
internal sealed partial class GovernedGateway : IAsyncDisposable
{
    public const string AdminToken = "test-admin-token";

    private readonly WebApplication _app;
    private bool _stopped;

    private GovernedGateway(WebApplication app, FakeTimeProvider time, int mqttPort, int httpPort, int mqttTlsPort, int httpTlsPort, int managementPort)
    {
        _app = app;
        Time = time;
        MqttPort = mqttPort;
        HttpPort = httpPort;
        MqttTlsPort = mqttTlsPort;
        HttpTlsPort = httpTlsPort;
        ManagementPort = managementPort;
        Device = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{managementPort}") };
        Admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{managementPort}") };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
    }

    public FakeTimeProvider Time { get; }

    public int MqttPort { get; }

    public int HttpPort { get; }

    public int MqttTlsPort { get; }

    public int HttpTlsPort { get; }

    public int ManagementPort { get; }

    /// <summary>HTTP client for the device surface (<c>Http:Port</c>), no token.</summary>
    public HttpClient Device { get; }

    /// <summary>HTTP client for the management surface without a token: /readyz, /metrics.</summary>
    public HttpClient Http { get; }

    /// <summary>HTTP client for the management surface that sends the bearer token.</summary>
    public HttpClient Admin { get; }

    public IServiceProvider Services => _app.Services;

    public MqttBroker Broker => _app.Services.GetRequiredService<MqttBroker>();

    public DrainCoordinator Drain => _app.Services.GetRequiredService<DrainCoordinator>();

    public static Task<GovernedGateway> StartAsync(params string[] settings) => StartAsync(null, settings);

    public static async Task<GovernedGateway> StartAsync(Action<IServiceCollection>? services, params string[] settings)
    {
        // A port found free can be taken by another test's outgoing socket before we bind it: try again with new ones.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryStartAsync(services, settings);
            }
            catch (IOException) when (attempt < 3)
            {
            }
        }
    }

    private static async Task<GovernedGateway> TryStartAsync(Action<IServiceCollection>? services, string[] settings)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var mqttPort = FreePorts.Next();
        var httpPort = FreePorts.Next();
        var tls = settings.Any(s => s.StartsWith("--Tls:CertificatePath=", StringComparison.Ordinal));
        var mqttTlsPort = tls ? FreePorts.Next() : 0;
        var httpTlsPort = tls ? FreePorts.Next() : 0;
        var managementPort = FreePorts.Next();
        string[] args =
        [
            $"--Mqtt:Port={mqttPort}", "--Mqtt:BindAddress=127.0.0.1",
            $"--Http:Port={httpPort}", "--Http:BindAddress=127.0.0.1",
            $"--Mqtt:TlsPort={mqttTlsPort}", $"--Http:TlsPort={httpTlsPort}", "--Mlp:Port=0",
            "--Mqtt:SysInterval=0", "--Logging:LogLevel:Default=Warning",
            $"--Management:Port={managementPort}", "--Management:BindAddress=127.0.0.1", $"--Management:Token={AdminToken}",
            .. settings,
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

        return new GovernedGateway(app, time, mqttPort, httpPort, mqttTlsPort, httpTlsPort, managementPort);
    }

    public Task<RawMqttClient> ConnectClientAsync() => RawMqttClient.OpenAsync(MqttPort);

    /// <summary>Moves the fake clock and runs the once-a-second maintenance pass.</summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        Time.Advance(by);
        await _app.Services.GetRequiredService<MqttBrokerMaintenance>().RunOnceAsync();
    }

    /// <summary>The value of one series on /metrics, 0 when it is absent. <paramref name="labels"/> must all be on the series.</summary>
    public async Task<double> MetricAsync(string name, params (string Key, string Value)[] labels)
    {
        var text = await Http.GetStringAsync("/metrics");
        double total = 0;
        foreach (Match match in SeriesLine().Matches(text))
        {
            if (match.Groups["name"].Value != name)
            {
                continue;
            }

            var labelText = match.Groups["labels"].Value;
            if (labels.All(l => labelText.Contains($"{l.Key}=\"{l.Value}\"", StringComparison.Ordinal)))
            {
                total += double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return total;
    }

    /// <summary>Stops the host (a SIGTERM in-process) without disposing it.</summary>
    public async Task StopAsync()
    {
        _stopped = true;
        await _app.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Device.Dispose();
        Http.Dispose();
        Admin.Dispose();
        if (!_stopped)
        {
            await _app.StopAsync();
        }

        await _app.DisposeAsync();
    }

    /// <summary>Polls state that changes on another thread after a socket event; bounded.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what = "condition")
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition(), $"{what} not reached in time.");
    }

    [GeneratedRegex(@"^(?<name>[a-z_]+)(\{(?<labels>[^}]*)\})? (?<value>\S+)$", RegexOptions.Multiline)]
    private static partial Regex SeriesLine();
}
