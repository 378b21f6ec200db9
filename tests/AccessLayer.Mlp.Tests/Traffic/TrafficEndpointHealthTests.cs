using System.Text;
using AccessLayer.Client;
using AccessLayer.Gateway.Traffic;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AccessLayer.Mlp.Tests.Traffic;

/// <summary>
/// Backend endpoints taken out of a group and put back, on a real gateway over real backends: by failed calls in a row
/// (outlier ejection, back after the ejection time) and by failed health checks (back once a check passes); idempotent
/// calls tried again on another endpoint when theirs is unreachable.
/// </summary>
public sealed class TrafficEndpointHealthTests
{
    private static string Table(params string[] blue) => $$"""
        version: 1
        sites:
          sh: { city: shanghai }
        zones:
          sh-a: { site: sh, services: { orders: { blue: [{{string.Join(", ", blue.Select(b => $"\"{b}\""))}}] } } }
        shards:
          0-99: sh-a
        """;

    private static async Task<(MlpTestGateway Gateway, MlpClient Client, CapturingLoggerProvider Logs)> StartAsync(TrafficTestTables.File file, params string[] settings)
    {
        var logs = new CapturingLoggerProvider();
        var gateway = await MlpTestGateway.StartAsync([.. TrafficTestTables.Settings(file), .. settings], s => s.AddSingleton<ILoggerProvider>(logs));
        var client = new MlpClient(gateway.ClientOptions("dev-health", "user-health"));
        await client.ConnectAsync();
        return (gateway, client, logs);
    }

    private static async Task<MlpResponse> CallAsync(MlpClient client) => await client.CallAsync("orders", "create", "x"u8.ToArray());

    [Fact]
    public async Task An_endpoint_whose_calls_fail_in_a_row_is_ejected_and_gets_calls_again_after_the_ejection_time()
    {
        await using var good = await LabelledBackend.StartAsync("good");
        var dead = $"http://127.0.0.1:{FreePorts.Next()}/";
        using var file = new TrafficTestTables.File(Table(good.Url, dead));
        var (gateway, client, logs) = await StartAsync(file, "--Traffic:OutlierConsecutiveFailures=2", "--Traffic:OutlierEjectionTime=00:00:30");
        await using var _ = gateway;
        await using var __ = client;

        // Picks are random: call until the dead endpoint has failed twice (it is then out).
        var failures = 0;
        for (var i = 0; i < 200 && failures < 2; i++)
            failures += (await CallAsync(client)).Status == 502 ? 1 : 0;
        Assert.Equal(2, failures);

        for (var i = 0; i < 30; i++)
            Assert.Equal("good", Encoding.UTF8.GetString((await CallAsync(client)).Body.Span));
        Assert.Single(logs.Lines, l => l.EventId.Id == 3006);

        // After the ejection time it is tried again (and, still dead, fails).
        gateway.Time.Advance(TimeSpan.FromSeconds(30));
        var failedAgain = false;
        for (var i = 0; i < 200 && !failedAgain; i++)
            failedAgain = (await CallAsync(client)).Status == 502;
        Assert.True(failedAgain);
        using var http = new HttpClient { BaseAddress = gateway.ManagementBase };
        Assert.Matches("accesslayer_traffic_endpoint_ejections_total\\{[^}]*reason=\"outlier\"[^}]*\\} 1", await http.GetStringAsync(new Uri("metrics", UriKind.Relative)));
    }

    [Fact]
    public async Task An_endpoint_failing_its_health_checks_gets_no_calls_until_a_check_passes()
    {
        await using var a = await LabelledBackend.StartAsync("a");
        await using var b = await LabelledBackend.StartAsync("b");
        using var file = new TrafficTestTables.File(Table(a.Url, b.Url));
        var (gateway, client, logs) = await StartAsync(file, "--Traffic:HealthCheckPath=/healthz", "--Traffic:HealthCheckInterval=00:00:05", "--Traffic:HealthCheckFailures=2");
        await using var _ = gateway;
        await using var __ = client;
        var health = gateway.Services.GetRequiredService<TrafficEndpointHealth>();
        var checker = gateway.Services.GetRequiredService<TrafficHealthChecker>();

        b.Healthy = false;
        // The interval on the gateway's fake clock starts a round. The clock moves no further: a check still in flight when it
        // moved 2 s more would end at its timeout and count as failed, whatever the backend answered.
        gateway.Time.Advance(TimeSpan.FromSeconds(5));
        await Eventually.TrueAsync(() => a.HealthChecks == 1 && b.HealthChecks == 1, "the interval starts a round of checks");
        // The second round, run by the test.
        await checker.CheckOnceAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => !health.IsAvailable(b.Url), "b fails two checks in a row");
        Assert.True(health.IsAvailable(a.Url));
        var callsToB = b.Calls.Count;
        for (var i = 0; i < 30; i++)
            Assert.Equal("a", Encoding.UTF8.GetString((await CallAsync(client)).Body.Span));
        Assert.Equal(callsToB, b.Calls.Count);
        Assert.Contains(logs.Lines, l => l.EventId.Id == 3007);

        b.Healthy = true;
        await checker.CheckOnceAsync(CancellationToken.None);
        Assert.True(health.IsAvailable(b.Url), "b passes a check");
        var reachedB = false;
        for (var i = 0; i < 200 && !reachedB; i++)
            reachedB = Encoding.UTF8.GetString((await CallAsync(client)).Body.Span) == "b";
        Assert.True(reachedB);
    }

    [Fact]
    public async Task An_idempotent_call_whose_endpoint_is_unreachable_is_tried_on_another_and_other_calls_are_not()
    {
        await using var good = await LabelledBackend.StartAsync("good");
        var dead = $"http://127.0.0.1:{FreePorts.Next()}/";
        using var file = new TrafficTestTables.File(Table(good.Url, dead));
        // No ejection here: every call picks either endpoint.
        var (gateway, client, _) = await StartAsync(file, "--Traffic:OutlierConsecutiveFailures=1000");
        await using var __ = gateway;
        await using var ___ = client;

        for (var i = 0; i < 40; i++)
        {
            var response = await client.CallAsync("orders", "create", "x"u8.ToArray(), new MlpCallOptions { Idempotent = true });
            Assert.Equal(200, response.Status);
        }

        // A call that is not idempotent may have reached the backend: it is answered 502 rather than sent twice.
        var failed = 0;
        for (var i = 0; i < 40; i++)
            failed += (await CallAsync(client)).Status == 502 ? 1 : 0;
        Assert.True(failed > 0);
        using var http = new HttpClient { BaseAddress = gateway.ManagementBase };
        Assert.Matches("accesslayer_traffic_retries_total(\\{\\})? [1-9]", await http.GetStringAsync(new Uri("metrics", UriKind.Relative)));
    }
}
