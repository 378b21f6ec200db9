using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AccessLayer.Gateway.Traffic;
using AccessLayer.Mlp.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AccessLayer.Mlp.Tests.Traffic;

/// <summary>
/// Operating the traffic table on a real gateway: loaded from its file at start, the file watched and re-applied, a bad
/// file refused with its line while the table in force stays, and the admin API (read, dry run, apply, roll back), every
/// version logged and counted on /metrics.
/// </summary>
public sealed class TrafficTableOperationTests
{
    [Fact]
    public async Task Without_a_table_file_the_traffic_api_answers_404_and_no_version_is_reported()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        using var http = gateway.CreateManagementClient();

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri("api/v1/traffic/table", UriKind.Relative))).StatusCode);
        Assert.Null(gateway.Services.GetRequiredService<TrafficTableStore>().Current);
    }

    [Fact]
    public async Task The_file_is_applied_at_start_and_a_changed_file_once_it_has_been_quiet_for_the_debounce()
    {
        await using var site = await OneSiteGateway.StartAsync("--Traffic:PollInterval=00:00:01", "--Traffic:Debounce=00:00:03");
        Assert.Equal(7, site.Store.Current!.Table.Version);
        Assert.Contains("accesslayer_traffic_table_version{} 7", await site.MetricsAsync(), StringComparison.Ordinal);

        site.File.Write(site.Table(8));
        // The watcher runs on the gateway's fake clock: one tick sees the change, and it is read only after the debounce.
        for (var i = 0; i < 2; i++)
        {
            site.Gateway.Time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(50);
        }

        Assert.Equal(7, site.Store.Current!.Table.Version);
        await Eventually.TrueAsync(() =>
        {
            site.Gateway.Time.Advance(TimeSpan.FromSeconds(1));
            return site.Store.Current!.Table.Version == 8;
        }, "the changed file is applied");

        var metrics = await site.MetricsAsync();
        Assert.Contains("accesslayer_traffic_table_version{} 8", metrics, StringComparison.Ordinal);
        Assert.Matches("accesslayer_traffic_table_applies_total\\{[^}]*source=\"file\"[^}]*\\} 1", metrics);
        Assert.Single(site.Logs.Lines, l => l.EventId.Id == 3001 && l.Message.Contains("version 8", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_bad_file_is_refused_with_its_line_and_the_table_in_force_stays()
    {
        await using var site = await OneSiteGateway.StartAsync();
        // The shards leave 50-59 uncovered: the line is that of the shards section's entry.
        site.File.Write(site.Table(8).Replace("50-99: sh-b", "60-99: sh-b", StringComparison.Ordinal));

        await Eventually.TrueAsync(() =>
        {
            site.Gateway.Time.Advance(TimeSpan.FromSeconds(2));
            return site.Logs.Lines.Any(l => l.EventId.Id == 3002);
        }, "the bad file is refused");

        var refusal = Assert.Single(site.Logs.Lines, l => l.EventId.Id == 3002);
        Assert.Matches("line \\d+: ", refusal.Message);
        Assert.Equal(7, site.Store.Current!.Table.Version);
        Assert.Matches("accesslayer_traffic_table_refusals_total\\{[^}]*source=\"file\"[^}]*\\} 1", await site.MetricsAsync());
    }

    [Fact]
    public async Task Validate_is_a_dry_run_that_says_how_many_uids_move()
    {
        await using var site = await OneSiteGateway.StartAsync();
        using var http = site.Gateway.CreateManagementClient();
        var candidate = site.Table(8).Replace("0-49: sh-a", "0-39: sh-a", StringComparison.Ordinal).Replace("50-99: sh-b", "40-99: sh-b", StringComparison.Ordinal);

        using var answer = await http.PostAsync(new Uri("api/v1/traffic/table/validate", UriKind.Relative), new StringContent(candidate, Encoding.UTF8));

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        using var json = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
        var diff = json.RootElement.GetProperty("diff");
        Assert.Equal(10, diff.GetProperty("shardsMoved").GetInt32());
        Assert.Equal(10.0, diff.GetProperty("uidPercentMoved").GetDouble());
        Assert.Equal(7, diff.GetProperty("fromVersion").GetInt64());
        Assert.Equal(7, site.Store.Current!.Table.Version);
    }

    [Fact]
    public async Task Apply_and_roll_back_through_the_admin_api_are_logged_and_counted()
    {
        await using var site = await OneSiteGateway.StartAsync();
        using var http = site.Gateway.CreateManagementClient();

        using (var applied = await site.ApplyAsync(site.Table(8, down: "[zone:sh-a]")))
        {
            Assert.Equal(HttpStatusCode.OK, applied.StatusCode);
            using var json = JsonDocument.Parse(await applied.Content.ReadAsStringAsync());
            Assert.Equal("applied", json.RootElement.GetProperty("status").GetString());
            Assert.Equal(50, json.RootElement.GetProperty("diff").GetProperty("shardsMoved").GetInt32());
        }

        using (var read = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/v1/traffic/table", UriKind.Relative))))
        {
            Assert.Equal(8, read.RootElement.GetProperty("version").GetInt64());
            Assert.Equal("admin", read.RootElement.GetProperty("source").GetString());
            Assert.Equal(7, read.RootElement.GetProperty("history")[0].GetProperty("version").GetInt64());
            Assert.Contains("zone:sh-a", read.RootElement.GetProperty("table").GetString(), StringComparison.Ordinal);
        }

        // A bad table and a version that does not grow are refused; 8 stays.
        using (var bad = await site.ApplyAsync(site.Table(9).Replace("greenWeight: 0", "greenWeight: 130", StringComparison.Ordinal)))
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
            using var json = JsonDocument.Parse(await bad.Content.ReadAsStringAsync());
            Assert.True(json.RootElement.GetProperty("line").GetInt64() > 0);
        }

        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await site.ApplyAsync(site.Table(6))).StatusCode);
        Assert.Equal(8, site.Store.Current!.Table.Version);

        using (var rollback = await http.PostAsync(new Uri("api/v1/traffic/table/rollback", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.OK, rollback.StatusCode);
        }

        Assert.Equal(7, site.Store.Current!.Table.Version);
        Assert.Equal(HttpStatusCode.Conflict, (await http.PostAsync(new Uri("api/v1/traffic/table/rollback", UriKind.Relative), null)).StatusCode);

        var metrics = await site.MetricsAsync();
        Assert.Contains("accesslayer_traffic_table_version{} 7", metrics, StringComparison.Ordinal);
        Assert.Matches("accesslayer_traffic_table_applies_total\\{[^}]*source=\"admin\"[^}]*\\} 1", metrics);
        Assert.Matches("accesslayer_traffic_table_applies_total\\{[^}]*source=\"rollback\"[^}]*\\} 1", metrics);
        Assert.Matches("accesslayer_traffic_table_refusals_total\\{[^}]*source=\"admin\"[^}]*\\} 2", metrics);
        Assert.Contains(site.Logs.Lines, l => l.EventId.Id == 3003);
    }

    [Fact]
    public async Task The_traffic_api_needs_the_management_token()
    {
        await using var site = await OneSiteGateway.StartAsync();
        using var http = new HttpClient { BaseAddress = site.Gateway.ManagementBase };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong");

        using var answer = await http.PutAsync(new Uri("api/v1/traffic/table", UriKind.Relative), new StringContent(site.Table(8)));

        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        Assert.Equal(7, site.Store.Current!.Table.Version);
    }

    [Fact]
    public async Task The_route_api_explains_where_a_user_goes_without_calling_anyone()
    {
        await using var site = await OneSiteGateway.StartAsync();
        using var http = site.Gateway.CreateManagementClient();
        var uid = TrafficTestTables.UidInShards(0, 49);

        using (var json = JsonDocument.Parse(await http.GetStringAsync(new Uri($"api/v1/traffic/route?service=orders&uid={uid}&platform=ios&appVersion=5.3.0", UriKind.Relative))))
        {
            var root = json.RootElement;
            Assert.Equal("sh-a", root.GetProperty("zone").GetString());
            Assert.Equal("shard", root.GetProperty("reason").GetString());
            Assert.Equal("canary", root.GetProperty("group").GetString());
            Assert.Equal("ios-beta", root.GetProperty("grayRule").GetString());
            Assert.False(root.GetProperty("forwarded").GetBoolean());
            var endpoint = Assert.Single(root.GetProperty("endpoints").EnumerateArray());
            Assert.Equal(site.CanaryA.Url, endpoint.GetProperty("url").GetString());
            Assert.True(endpoint.GetProperty("available").GetBoolean());
        }

        Assert.True((await site.ApplyAsync(site.Table(8, down: "[zone:sh-a]"))).IsSuccessStatusCode);
        using (var json = JsonDocument.Parse(await http.GetStringAsync(new Uri($"api/v1/traffic/route?service=orders&uid={uid}", UriKind.Relative))))
        {
            Assert.Equal("sh-b", json.RootElement.GetProperty("zone").GetString());
            Assert.Equal("failover", json.RootElement.GetProperty("reason").GetString());
        }

        Assert.Empty(site.CanaryA.Calls);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync(new Uri("api/v1/traffic/route?uid=x", UriKind.Relative))).StatusCode);
    }
}
