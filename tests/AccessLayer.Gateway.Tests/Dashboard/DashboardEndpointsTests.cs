using System.Net;
using System.Text.Json;
using AccessLayer.Gateway.Dashboard;
using AccessLayer.Gateway.Tests.Governance;
using AccessLayer.Protocol.Mqtt;
using Microsoft.Extensions.DependencyInjection;

namespace AccessLayer.Gateway.Tests.Dashboard;

/// <summary>The dashboard over real HTTP on the management port: its files, its stats, any node's drain, retained topics.</summary>
public sealed class DashboardEndpointsTests
{
    [Fact]
    public async Task The_files_are_served_without_a_token_under_a_policy_that_allows_no_inline_script_and_only_on_the_management_port()
    {
        await using var gateway = await GovernedGateway.StartAsync();

        using (var bare = await new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }).GetAsync(new Uri(gateway.Http.BaseAddress!, "/dashboard")))
        {
            Assert.Equal(HttpStatusCode.Redirect, bare.StatusCode);
            Assert.Equal("/dashboard/", bare.Headers.Location?.OriginalString);
        }

        using var index = await gateway.Http.GetAsync("/dashboard/");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        var policy = index.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", index.Headers.GetValues("X-Content-Type-Options").Single());
        var html = await index.Content.ReadAsStringAsync();
        // Every script is a file: a <script> with a body would be refused by the policy above.
        Assert.DoesNotMatch(@"<script(?![^>]*\bsrc=)[^>]*>", html);
        Assert.DoesNotMatch(@"<[^>]+\son[a-z]+\s*=", html);

        foreach (var file in new[] { "dashboard.js", "chart.js", "dashboard.css" })
        {
            using var response = await gateway.Http.GetAsync("/dashboard/" + file);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            // Revalidated by ETag rather than served stale after an upgrade.
            var etag = response.Headers.ETag!;
            using var again = new HttpRequestMessage(HttpMethod.Get, "/dashboard/" + file);
            again.Headers.IfNoneMatch.Add(etag);
            Assert.Equal(HttpStatusCode.NotModified, (await gateway.Http.SendAsync(again)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await gateway.Http.GetAsync("/dashboard/appsettings.json")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.Http.GetAsync("/dashboard/..%2Fappsettings.json")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.Device.GetAsync("/dashboard/")).StatusCode);
        // The data behind it still needs the token.
        Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.Http.GetAsync("/api/v1/stats")).StatusCode);
    }

    [Fact]
    public async Task Stats_show_the_node_s_connections_and_per_second_rates_once_the_clock_ticks()
    {
        await using var gateway = await GovernedGateway.StartAsync();
        var sampler = gateway.Services.GetRequiredService<NodeStatsSampler>();
        await GovernedGateway.WaitUntilAsync(() => sampler.Latest is not null, "first reading");

        await using var subscriber = await gateway.ConnectClientAsync();
        await subscriber.ConnectAsync("sub");
        await subscriber.SubscribeAsync("t", MqttQualityOfService.AtMostOnce);
        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("pub");
        await using var idle = await gateway.ConnectClientAsync();
        await idle.ConnectAsync("idle");
        for (var i = 0; i < 40; i++)
        {
            await publisher.PublishAsync("t", "m" + i);
        }

        for (var i = 0; i < 40; i++)
        {
            await subscriber.ReceivePublishAsync();
        }

        gateway.Time.Advance(TimeSpan.FromSeconds(2));
        JsonElement last = default;
        for (var attempt = 0; attempt < 200; attempt++)
        {
            using var stats = JsonDocument.Parse(await gateway.Admin.GetStringAsync("/api/v1/stats"));
            var samples = stats.RootElement.GetProperty("samples");
            if (samples.GetArrayLength() > 0)
            {
                Assert.True(stats.RootElement.GetProperty("self").GetBoolean());
                last = samples[samples.GetArrayLength() - 1].Clone();
                break;
            }

            await Task.Delay(10);
        }

        Assert.Equal(JsonValueKind.Object, last.ValueKind);
        Assert.Equal(3, last.GetProperty("mqttTcp").GetInt32());
        Assert.Equal(0, last.GetProperty("mlp").GetInt32());
        // 40 messages in and 40 out over the 2 s the clock moved; 3 CONNECTs.
        Assert.Equal(20, last.GetProperty("messagesInPerSecond").GetDouble());
        Assert.Equal(20, last.GetProperty("messagesOutPerSecond").GetDouble());
        Assert.Equal(1.5, last.GetProperty("connectsPerSecond").GetDouble());
        Assert.True(last.GetProperty("workingSetBytes").GetInt64() > 0);
        Assert.Equal(gateway.Time.GetUtcNow().ToUnixTimeMilliseconds(), last.GetProperty("t").GetInt64());

        // A poller asking after its last point gets nothing twice.
        using var none = JsonDocument.Parse(await gateway.Admin.GetStringAsync($"/api/v1/stats?since={last.GetProperty("t").GetInt64()}"));
        Assert.Equal(0, none.RootElement.GetProperty("samples").GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.Admin.GetAsync("/api/v1/stats?node=nowhere")).StatusCode);
    }

    [Fact]
    public async Task The_stream_sends_the_kept_samples_then_each_new_one_as_a_server_sent_event()
    {
        await using var gateway = await GovernedGateway.StartAsync();
        var sampler = gateway.Services.GetRequiredService<NodeStatsSampler>();
        await GovernedGateway.WaitUntilAsync(() => sampler.Latest is not null, "first reading");
        gateway.Time.Advance(TimeSpan.FromSeconds(1));
        await GovernedGateway.WaitUntilAsync(() => sampler.Ring.Count == 1, "first sample");
        Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.Http.GetAsync("/api/v1/stats/stream")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.Admin.GetAsync("/api/v1/stats/stream?node=nowhere")).StatusCode);

        using var response = await gateway.Admin.GetAsync("/api/v1/stats/stream", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var (firstId, first) = await ReadEventAsync(reader);
        Assert.Equal(gateway.Time.GetUtcNow().ToUnixTimeMilliseconds(), firstId);
        Assert.Equal(0, first.GetProperty("mqttTcp").GetInt32());

        await using var client = await gateway.ConnectClientAsync();
        await client.ConnectAsync("streamed");
        // The next event comes once the clock has moved a sample interval (the sampler and the stream both wait on it).
        var next = ReadEventAsync(reader);
        for (var i = 0; i < 20 && !next.IsCompleted; i++)
        {
            gateway.Time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(next, Task.Delay(100));
        }

        var (nextId, point) = await next.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(nextId > firstId);
        Assert.Equal(1, point.GetProperty("mqttTcp").GetInt32());
    }

    private static async Task<(long Id, JsonElement Data)> ReadEventAsync(StreamReader reader)
    {
        long id = 0;
        JsonElement data = default;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length == 0)
            {
                return (id, data);
            }

            if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = long.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                using var document = JsonDocument.Parse(line[6..]);
                data = document.RootElement.Clone();
            }
        }

        throw new EndOfStreamException("the stream ended");
    }

    [Fact]
    public async Task A_kick_shows_in_the_evictions_by_reason()
    {
        await using var gateway = await GovernedGateway.StartAsync();
        await using var client = await gateway.ConnectClientAsync();
        await client.ConnectAsync("kicked");
        Assert.Equal(HttpStatusCode.NoContent, (await gateway.Admin.DeleteAsync("/api/v1/clients/kicked")).StatusCode);
        Assert.True(await client.WaitForCloseAsync());

        var sampler = gateway.Services.GetRequiredService<NodeStatsSampler>();
        await GovernedGateway.WaitUntilAsync(() => sampler.Latest is not null, "first reading");
        gateway.Time.Advance(TimeSpan.FromSeconds(1));
        await GovernedGateway.WaitUntilAsync(() => sampler.Latest?.EvictionsByReason.GetValueOrDefault("admin_kick") == 1, "admin_kick counted");
        using var stats = JsonDocument.Parse(await gateway.Admin.GetStringAsync("/api/v1/stats"));
        Assert.Equal(1, stats.RootElement.GetProperty("evictionsByReason").GetProperty("admin_kick").GetInt64());
    }

    [Fact]
    public async Task The_node_s_own_drain_is_started_watched_and_cancelled_through_its_fleet_route()
    {
        await using var gateway = await GovernedGateway.StartAsync();
        using var fleet = JsonDocument.Parse(await gateway.Admin.GetStringAsync("/api/v1/fleet/nodes"));
        var self = Uri.EscapeDataString(fleet.RootElement.GetProperty("self").GetString()!);

        using var started = await gateway.Admin.PostAsync($"/api/v1/fleet/nodes/{self}/drain", null);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await gateway.Http.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await gateway.Admin.PostAsync($"/api/v1/fleet/nodes/{self}/drain", null)).StatusCode);
        using var status = JsonDocument.Parse(await gateway.Admin.GetStringAsync($"/api/v1/fleet/nodes/{self}/drain"));
        Assert.NotEqual("idle", status.RootElement.GetProperty("state").GetString());

        using var cancelled = JsonDocument.Parse(await (await gateway.Admin.DeleteAsync($"/api/v1/fleet/nodes/{self}/drain")).Content.ReadAsStringAsync());
        Assert.Equal("idle", cancelled.RootElement.GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.OK, (await gateway.Http.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.Admin.PostAsync("/api/v1/fleet/nodes/elsewhere/drain", null)).StatusCode);
    }

    [Fact]
    public async Task Retained_topics_are_listed_under_a_prefix_in_topic_order_a_page_at_a_time()
    {
        await using var gateway = await GovernedGateway.StartAsync();
        await using var client = await gateway.ConnectClientAsync();
        await client.ConnectAsync("retainer");
        foreach (var topic in new[] { "site/b/temp", "site/a/temp", "site/a/hum", "site/c", "sitex/a", "other/a" })
        {
            await client.PublishAsync(topic, "v:" + topic, MqttQualityOfService.AtLeastOnce, packetId: 1, retain: true);
            await client.ReceiveAsync();
        }

        using var first = JsonDocument.Parse(await gateway.Admin.GetStringAsync("/api/v1/retained?prefix=site/&limit=2"));
        Assert.Equal(4, first.RootElement.GetProperty("matched").GetInt32());
        Assert.Equal(["site/a/hum", "site/a/temp"], Topics(first));
        Assert.Equal("v:site/a/hum", first.RootElement.GetProperty("items")[0].GetProperty("payload").GetString());
        var next = first.RootElement.GetProperty("next").GetString();

        using var second = JsonDocument.Parse(await gateway.Admin.GetStringAsync($"/api/v1/retained?prefix=site/&limit=2&after={Uri.EscapeDataString(next!)}"));
        Assert.Equal(["site/b/temp", "site/c"], Topics(second));
        Assert.False(second.RootElement.TryGetProperty("next", out _));

        // A prefix inside a level: "site" matches "site/..." and "sitex/...".
        using var partial = JsonDocument.Parse(await gateway.Admin.GetStringAsync("/api/v1/retained?prefix=site"));
        Assert.Equal(5, partial.RootElement.GetProperty("matched").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, (await gateway.Admin.GetAsync("/api/v1/retained?prefix=site/%23")).StatusCode);
    }

    private static string[] Topics(JsonDocument page) =>
        [.. page.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("topic").GetString()!)];
}
