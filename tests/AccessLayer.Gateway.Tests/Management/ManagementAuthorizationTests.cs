using System.Net;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Tests.Governance;

namespace AccessLayer.Gateway.Tests.Management;

/// <summary>The management surface's bearer token over real HTTP: one check for push, reload, admin, drain and bans; none for the probes and metrics.</summary>
public sealed class ManagementAuthorizationTests
{
    [Fact]
    public async Task Every_protected_route_refuses_a_missing_or_wrong_token()
    {
        await using var gateway = await GovernedGateway.StartAsync();
        foreach (var (method, path) in SurfaceRequests.Protected)
        {
            foreach (var token in (string?[])[null, "guess", GovernedGateway.AdminToken + "x", GovernedGateway.AdminToken[..^1]])
            {
                using var response = await gateway.Http.SendAsync(SurfaceRequests.Create(method, path, token));
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} with token '{token}' answered {(int)response.StatusCode}");
                Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            }

            // The right token under another scheme is not a bearer token.
            using var basic = SurfaceRequests.Create(method, path);
            basic.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", GovernedGateway.AdminToken);
            Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.Http.SendAsync(basic)).StatusCode);
        }

        // Nothing got through: no push was accepted, no drain started.
        Assert.Equal(0, await gateway.MetricAsync("accesslayer_mlp_pushes_accepted_total"));
        Assert.Equal(DrainState.Idle, gateway.Drain.Status.State);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Http.GetAsync("/readyz")).StatusCode);
    }

    [Fact]
    public async Task The_right_token_reaches_push_reload_admin_drain_and_bans()
    {
        await using var gateway = await GovernedGateway.StartAsync();
        (string Method, string Path, HttpStatusCode Expected)[] calls =
        [
            ("POST", "/api/v1/push", HttpStatusCode.Accepted),
            ("POST", "/api/v1/mlp/dictionaries/reload", HttpStatusCode.OK),
            ("GET", "/api/v1/clients", HttpStatusCode.OK),
            ("GET", "/api/v1/bans", HttpStatusCode.OK),
            ("DELETE", "/api/v1/bans/someone", HttpStatusCode.NotFound),   // the admin API's answer: no such ban
            ("GET", "/api/v1/drain", HttpStatusCode.OK),
            ("POST", "/api/v1/drain", HttpStatusCode.Accepted),
            ("DELETE", "/api/v1/drain", HttpStatusCode.OK),
        ];
        foreach (var (method, path, expected) in calls)
        {
            using var response = await gateway.Admin.SendAsync(SurfaceRequests.Create(method, path, GovernedGateway.AdminToken));
            Assert.True(response.StatusCode == expected, $"{method} {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        Assert.Equal(1, await gateway.MetricAsync("accesslayer_mlp_pushes_accepted_total"));
    }

    [Fact]
    public async Task Probes_and_metrics_answer_without_a_token()
    {
        await using var gateway = await GovernedGateway.StartAsync();
        Assert.Equal("ok", await gateway.Http.GetStringAsync("/healthz"));
        Assert.Equal("ready", await gateway.Http.GetStringAsync("/readyz"));
        Assert.Contains("accesslayer_mqtt_connections", await gateway.Http.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_configured_token_every_protected_route_is_forbidden_and_the_probes_still_answer()
    {
        // The embedded default: closed, never open, and the 403 says which setting opens it.
        await using var gateway = await GovernedGateway.StartAsync("--Management:Token=");
        foreach (var (method, path) in SurfaceRequests.Protected)
        {
            foreach (var token in (string?[])[null, GovernedGateway.AdminToken, string.Empty])
            {
                using var response = await gateway.Http.SendAsync(SurfaceRequests.Create(method, path, token));
                Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{method} {path} answered {(int)response.StatusCode}");
                Assert.Contains("Management:Token", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }

        Assert.Equal(DrainState.Idle, gateway.Drain.Status.State);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Http.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Http.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task Every_token_in_the_token_file_is_accepted_so_a_token_can_be_rotated()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllLinesAsync(file, ["# rotated on 2026-01-01", "old-token-0123456789", "", "  new-token-9876543210  "]);
            await using var gateway = await GovernedGateway.StartAsync("--Management:Token=", $"--Management:TokenFile={file}");
            foreach (var token in (string[])["old-token-0123456789", "new-token-9876543210"])
            {
                Assert.Equal(HttpStatusCode.OK, (await gateway.Http.SendAsync(SurfaceRequests.Create("GET", "/api/v1/clients", token))).StatusCode);
            }

            Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.Http.SendAsync(SurfaceRequests.Create("GET", "/api/v1/clients", "# rotated on 2026-01-01"))).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.Http.SendAsync(SurfaceRequests.Create("GET", "/api/v1/clients", GovernedGateway.AdminToken))).StatusCode);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Admin_Token_still_works_as_the_older_name_of_Management_Token()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Management:Token=", "--Admin:Token=older-name-token");
        Assert.Equal(HttpStatusCode.OK, (await gateway.Http.SendAsync(SurfaceRequests.Create("GET", "/api/v1/clients", "older-name-token"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.Http.SendAsync(SurfaceRequests.Create("GET", "/api/v1/clients", GovernedGateway.AdminToken))).StatusCode);
    }
}
