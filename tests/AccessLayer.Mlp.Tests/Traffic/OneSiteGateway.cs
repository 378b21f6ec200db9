using System.Net.Http.Json;
using System.Text;
using AccessLayer.Client;
using AccessLayer.Gateway.Traffic;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AccessLayer.Mlp.Tests.Traffic;

/// <summary>
/// The in-process gateway of site <c>sh</c> with a watched table file (<see cref="TrafficTestTables.OneSite"/>, version 7)
/// over five real labelled backends: sh-a blue, green, canary and shadow, and sh-b blue. Its log lines are captured.
/// </summary>
internal sealed class OneSiteGateway : IAsyncDisposable
{
    private OneSiteGateway(MlpTestGateway gateway, TrafficTestTables.File file, CapturingLoggerProvider logs, LabelledBackend[] backends)
    {
        Gateway = gateway;
        File = file;
        Logs = logs;
        BlueA = backends[0];
        GreenA = backends[1];
        CanaryA = backends[2];
        ShadowA = backends[3];
        BlueB = backends[4];
    }

    public MlpTestGateway Gateway { get; }

    public TrafficTestTables.File File { get; }

    public CapturingLoggerProvider Logs { get; }

    public LabelledBackend BlueA { get; }

    public LabelledBackend GreenA { get; }

    public LabelledBackend CanaryA { get; }

    public LabelledBackend ShadowA { get; }

    public LabelledBackend BlueB { get; }

    public TrafficTableStore Store => Gateway.Services.GetRequiredService<TrafficTableStore>();

    public static async Task<OneSiteGateway> StartAsync(params string[] settings)
    {
        var backends = await Task.WhenAll(new[] { "sh-a/blue", "sh-a/green", "sh-a/canary", "sh-a/shadow", "sh-b/blue" }.Select(LabelledBackend.StartAsync));
        var file = new TrafficTestTables.File(Table(7, backends));
        var logs = new CapturingLoggerProvider();
        var gateway = await MlpTestGateway.StartAsync([.. TrafficTestTables.Settings(file), "--Logging:LogLevel:AccessLayer.Gateway.Traffic=Information", .. settings], s => s.AddSingleton<ILoggerProvider>(logs));
        return new OneSiteGateway(gateway, file, logs, backends);
    }

    private static string Table(long version, LabelledBackend[] b, int greenWeight = 0, string down = "[]") =>
        TrafficTestTables.OneSite(version, b[0], b[1], b[2], b[3], b[4], greenWeight, down);

    public string Table(long version, int greenWeight = 0, string down = "[]") =>
        TrafficTestTables.OneSite(version, BlueA, GreenA, CanaryA, ShadowA, BlueB, greenWeight, down);

    /// <summary>PUT /api/v1/traffic/table with the management token.</summary>
    public async Task<HttpResponseMessage> ApplyAsync(string table)
    {
        using var http = Gateway.CreateManagementClient();
        return await http.PutAsync(new Uri("api/v1/traffic/table", UriKind.Relative), new StringContent(table, Encoding.UTF8, "application/yaml"));
    }

    public async Task<string> MetricsAsync()
    {
        using var http = new HttpClient { BaseAddress = Gateway.ManagementBase };
        return await http.GetStringAsync(new Uri("metrics", UriKind.Relative));
    }

    /// <summary>A connected client of user <paramref name="uid"/>.</summary>
    public async Task<MlpClient> ConnectAsync(string uid, string platform = "", string appVersion = "")
    {
        var options = Gateway.ClientOptions("dev-" + uid, uid);
        options.Platform = platform;
        options.AppVersion = appVersion;
        var client = new MlpClient(options);
        await client.ConnectAsync();
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        foreach (var backend in new[] { BlueA, GreenA, CanaryA, ShadowA, BlueB })
            await backend.DisposeAsync();
        File.Dispose();
    }
}
