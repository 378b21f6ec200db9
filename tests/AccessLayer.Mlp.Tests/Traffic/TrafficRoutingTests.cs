using System.Text;
using AccessLayer.Client;
using AccessLayer.Gateway.Traffic;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Protocol.Hpack;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AccessLayer.Mlp.Tests.Traffic;

/// <summary>
/// MLP calls routed by the traffic table to real labelled backends: the zone of the session's uid, the zone cookie
/// (honoured, corrected when stale, worthless to another user), load-test and gray groups, failover, and a blue/green
/// switch under load that fails no call and lets calls in flight finish on the old colour.
/// </summary>
public sealed class TrafficRoutingTests
{
    private static async Task<(string Body, MlpResponse Response)> CallAsync(MlpClient client, string operation = "create", params HeaderField[] headers)
    {
        var response = await client.CallAsync("orders", operation, "x"u8.ToArray(), new MlpCallOptions { Headers = headers });
        Assert.Equal(200, response.Status);
        return (Encoding.UTF8.GetString(response.Body.Span), response);
    }

    [Fact]
    public async Task A_call_goes_to_the_zone_of_the_sessions_uid_whatever_identity_header_the_client_sends()
    {
        await using var site = await OneSiteGateway.StartAsync();
        var inA = TrafficTestTables.UidInShards(0, 49);
        var inB = TrafficTestTables.UidInShards(50, 99);
        await using var client = await site.ConnectAsync(inA);

        // The uid is the session's (its HELLO token): a header naming another user changes nothing.
        var (body, response) = await CallAsync(client, "create", new HeaderField("x-mlp-user-id", inB));

        Assert.Equal("sh-a/blue", body);
        Assert.Equal("sh-a", response.Header("mlp-zone"));
        Assert.Equal("sh", response.Header("mlp-site"));
        Assert.Equal("blue", response.Header("mlp-group"));
        Assert.Equal("7", response.Header("mlp-table-version"));
        // The link's cookie, from WELCOME, routed it: no lookup, and no new cookie to send.
        Assert.StartsWith("7.sh-a.", client.LastWelcome!.ZoneCookie.ToStringUtf8(), StringComparison.Ordinal);
        Assert.Equal("cookie", response.Header("mlp-route-reason"));
        Assert.Null(response.Header("mlp-zone-cookie"));
        Assert.Equal(inA, response.Header("seen-x-mlp-user-id"));
        Assert.Equal("sh-a", response.Header("seen-x-mlp-zone"));

        await using var other = await site.ConnectAsync(inB);
        Assert.Equal("sh-b/blue", (await CallAsync(other)).Body);

        // The HTTP fallback routes the same way, by the token's user: with no link and no cookie, by the shard lookup.
        var fallback = await other.CallAsync("orders", "create", "x"u8.ToArray(), new MlpCallOptions { ForceHttpFallback = true });
        Assert.Equal("http", fallback.Transport);
        Assert.Equal("sh-b/blue", Encoding.UTF8.GetString(fallback.Body.Span));
        Assert.Equal("shard", fallback.Header("mlp-route-reason"));
        Assert.StartsWith("7.sh-b.", fallback.Header("mlp-zone-cookie"), StringComparison.Ordinal);
        // It also came as an HTTP cookie, which the SDK's HttpClient keeps and sends: the next fallback call is routed by it.
        var second = await other.CallAsync("orders", "create", "x"u8.ToArray(), new MlpCallOptions { ForceHttpFallback = true });
        Assert.Equal("sh-b/blue", Encoding.UTF8.GetString(second.Body.Span));
        Assert.Equal("cookie", second.Header("mlp-route-reason"));
    }

    [Fact]
    public async Task A_valid_cookie_skips_the_lookup_and_a_stale_or_foreign_one_is_corrected()
    {
        await using var site = await OneSiteGateway.StartAsync();
        var uid = TrafficTestTables.UidInShards(0, 49);
        var cookies = new ZoneCookie(site.Gateway.Services.GetRequiredService<TrafficKeys>().Cookie);
        // A cookie naming sh-b for a user whose shard is in sh-a: only a gateway could have made it, and it is obeyed.
        var toB = cookies.Issue(7, site.Store.Current!.Table.Zones["sh-b"], uid);
        await using var client = await site.ConnectAsync(uid);

        var (body, response) = await CallAsync(client, "create", new HeaderField("mlp-zone-cookie", toB));
        Assert.Equal("sh-b/blue", body);
        Assert.Equal("cookie", response.Header("mlp-route-reason"));
        Assert.Null(response.Header("mlp-zone-cookie"));

        // Another user's cookie is worth nothing here.
        var foreign = cookies.Issue(7, site.Store.Current!.Table.Zones["sh-b"], "someone-else");
        (body, response) = await CallAsync(client, "create", new HeaderField("mlp-zone-cookie", foreign));
        Assert.Equal("sh-a/blue", body);
        Assert.StartsWith("7.sh-a.", response.Header("mlp-zone-cookie"), StringComparison.Ordinal);

        // A new version: the old cookie is stale, the lookup answers and the caller gets a cookie of version 8.
        Assert.True((await site.ApplyAsync(site.Table(8))).IsSuccessStatusCode);
        (body, response) = await CallAsync(client, "create", new HeaderField("mlp-zone-cookie", toB));
        Assert.Equal("sh-a/blue", body);
        Assert.Equal("shard", response.Header("mlp-route-reason"));
        var fresh = response.Header("mlp-zone-cookie");
        Assert.StartsWith("8.sh-a.", fresh, StringComparison.Ordinal);

        // The fresh cookie is honoured; the backend never sees it.
        (body, response) = await CallAsync(client, "create", new HeaderField("mlp-zone-cookie", fresh!));
        Assert.Equal("cookie", response.Header("mlp-route-reason"));
        Assert.DoesNotContain(site.BlueA.Calls, c => c.ContainsKey("mlp-zone-cookie"));
    }

    [Fact]
    public async Task Load_test_calls_go_to_the_shadow_group_and_the_backend_sees_the_mark()
    {
        await using var site = await OneSiteGateway.StartAsync();
        await using var client = await site.ConnectAsync(TrafficTestTables.UidInShards(0, 49));

        var (body, response) = await CallAsync(client, "create", new HeaderField("mlp-load-test", "1"));

        Assert.Equal("sh-a/shadow", body);
        Assert.Equal("shadow", response.Header("mlp-group"));
        Assert.Equal("load_test", response.Header("mlp-route-reason"));
        Assert.Equal("1", response.Header("seen-x-mlp-load-test"));
        // Unmarked calls of the same user stay on production and carry no mark.
        (body, response) = await CallAsync(client);
        Assert.Equal("sh-a/blue", body);
        Assert.Null(response.Header("seen-x-mlp-load-test"));
    }

    [Fact]
    public async Task A_gray_rule_on_platform_and_app_version_sends_its_users_to_the_canary_and_says_which_rule()
    {
        await using var site = await OneSiteGateway.StartAsync();
        var uid = TrafficTestTables.UidInShards(0, 49);
        await using var beta = await site.ConnectAsync(uid, platform: "ios", appVersion: "5.3.1");
        await using var old = await site.ConnectAsync(TrafficTestTables.UidInShards(0, 49, skip: 1), platform: "ios", appVersion: "5.1.0");

        var (body, response) = await CallAsync(beta);
        Assert.Equal("sh-a/canary", body);
        Assert.Equal("ios-beta", response.Header("mlp-gray-rule"));
        Assert.Equal("canary", response.Header("mlp-group"));
        Assert.Equal("sh-a/blue", (await CallAsync(old)).Body);
    }

    [Fact]
    public async Task A_down_zones_users_move_to_its_standby_and_come_back_when_it_returns()
    {
        await using var site = await OneSiteGateway.StartAsync();
        await using var client = await site.ConnectAsync(TrafficTestTables.UidInShards(0, 49));
        var cookie = client.LastWelcome!.ZoneCookie.ToStringUtf8();

        Assert.True((await site.ApplyAsync(site.Table(8, down: "[zone:sh-a]"))).IsSuccessStatusCode);
        var (body, response) = await CallAsync(client, "create", new HeaderField("mlp-zone-cookie", cookie));
        Assert.Equal("sh-b/blue", body);
        Assert.Equal("failover", response.Header("mlp-route-reason"));
        Assert.StartsWith("8.sh-b.", response.Header("mlp-zone-cookie"), StringComparison.Ordinal);

        Assert.True((await site.ApplyAsync(site.Table(9))).IsSuccessStatusCode);
        // The failover cookie of version 8 is stale now: the user goes home.
        (body, response) = await CallAsync(client, "create", new HeaderField("mlp-zone-cookie", response.Header("mlp-zone-cookie")!));
        Assert.Equal("sh-a/blue", body);
        Assert.Equal("shard", response.Header("mlp-route-reason"));
    }

    [Fact]
    public async Task A_service_the_table_does_not_have_is_still_routed_by_Mlp_Routes()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var site = await OneSiteGateway.StartAsync($"--Mlp:Routes:legacy:Url={backend.Url}");
        await using var client = await site.ConnectAsync(TrafficTestTables.UidInShards(0, 49));

        var response = await client.CallAsync("legacy", "fail", ReadOnlyMemory<byte>.Empty);

        // The legacy backend's own answer (its /fail is 500), with no traffic metadata.
        Assert.Equal(500, response.Status);
        Assert.Null(response.Header("mlp-zone"));
    }

    [Fact]
    public async Task A_blue_green_switch_under_steady_load_fails_no_call_and_calls_in_flight_finish_on_blue()
    {
        await using var site = await OneSiteGateway.StartAsync();
        var clients = new List<MlpClient>();
        for (var i = 0; i < 8; i++)
            clients.Add(await site.ConnectAsync(TrafficTestTables.UidInShards(0, 49, skip: i)));

        // A call in flight on blue when the switch comes.
        var slow = CallAsync(clients[0], "slow");
        await site.BlueA.SlowArrived.Task.WaitAsync(TimeSpan.FromSeconds(20));

        const int CallsPerClient = 40;
        var failures = 0;
        var served = new System.Collections.Concurrent.ConcurrentQueue<(int Index, string Body)>();
        var switched = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var loops = clients.Select((client, c) => Task.Run(async () =>
        {
            for (var i = 0; i < CallsPerClient; i++)
            {
                if (c == 0 && i == CallsPerClient / 2)
                {
                    // Halfway through client 0's calls, the operator moves everyone to green.
                    Assert.True((await site.ApplyAsync(site.Table(8, greenWeight: 100))).IsSuccessStatusCode);
                    switched.TrySetResult();
                }

                var after = switched.Task.IsCompleted ? 1 : 0;
                var response = await client.CallAsync("orders", "create", "x"u8.ToArray());
                if (response.Status != 200)
                    Interlocked.Increment(ref failures);
                served.Enqueue((after, Encoding.UTF8.GetString(response.Body.Span)));
            }
        })).ToList();
        await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(60));

        site.BlueA.Release();
        var (slowBody, _) = await slow.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(0, failures);
        Assert.Equal(8 * CallsPerClient, served.Count);
        Assert.Equal("sh-a/blue", slowBody);
        // Calls begun after the apply returned all went to green; some before it went to blue.
        Assert.All(served.Where(s => s.Index == 1), s => Assert.Equal("sh-a/green", s.Body));
        Assert.Contains(served, s => s.Index == 0 && s.Body == "sh-a/blue");
        foreach (var client in clients)
            await client.DisposeAsync();
    }

    [Fact]
    public async Task A_services_timeoutMs_ends_a_call_at_its_own_deadline_and_http2_talks_h2c()
    {
        await using var slow = await LabelledBackend.StartAsync("slow");
        await using var h2c = await TestBackend.StartAsync(http2: true);
        using var file = new TrafficTestTables.File($$"""
            version: 1
            sites:
              sh: { city: shanghai }
            zones:
              sh-a: { site: sh, services: { orders: { blue: ["{{slow.Url}}"], timeoutMs: 250 }, shop: { blue: ["{{h2c.Url}}"], http2: true } } }
            shards:
              0-99: sh-a
            """);
        await using var gateway = await MlpTestGateway.StartAsync(TrafficTestTables.Settings(file));
        var client = new MlpClient(gateway.ClientOptions("dev-deadline", "user-deadline"));
        await using var _ = client;
        await client.ConnectAsync();

        // The call's own deadline is Mlp:RequestTimeoutSeconds (30 s of the fake clock); the zone's 250 ms ends it first.
        var call = client.CallAsync("orders", "slow", ReadOnlyMemory<byte>.Empty);
        await slow.SlowArrived.Task.WaitAsync(TimeSpan.FromSeconds(20));
        gateway.Time.Advance(TimeSpan.FromMilliseconds(300));
        var response = await call.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(504, response.Status);

        var order = await client.CallAsync("shop", "create", new Protos.CreateOrderRequest { Sku = "a", Quantity = 1 }.ToByteArray());
        Assert.Equal(200, order.Status);
        Assert.Equal("HTTP/2", h2c.LastProtocol);
    }

    [Fact]
    public async Task The_links_cookie_comes_in_WELCOME_follows_table_changes_and_a_valid_HELLO_cookie_is_kept()
    {
        await using var site = await OneSiteGateway.StartAsync();
        var uid = TrafficTestTables.UidInShards(0, 49);
        await using var client = await site.ConnectAsync(uid);
        Assert.Equal("cookie", (await CallAsync(client)).Response.Header("mlp-route-reason"));

        // A new version makes the link's cookie stale: the lookup answers once, and the link keeps the fresh cookie.
        Assert.True((await site.ApplyAsync(site.Table(8))).IsSuccessStatusCode);
        var (_, response) = await CallAsync(client);
        Assert.Equal("shard", response.Header("mlp-route-reason"));
        Assert.StartsWith("8.sh-a.", response.Header("mlp-zone-cookie"), StringComparison.Ordinal);
        Assert.Equal("cookie", (await CallAsync(client)).Response.Header("mlp-route-reason"));

        // HELLO's cookie (docs/protocol.md §5.4): kept when valid for this user and version, replaced otherwise.
        var cookies = new ZoneCookie(site.Gateway.Services.GetRequiredService<TrafficKeys>().Cookie);
        var toB = cookies.Issue(8, site.Store.Current!.Table.Zones["sh-b"], uid);
        Assert.Equal(toB, await WelcomeCookieAsync(site.Gateway, uid, toB));
        Assert.StartsWith("8.sh-a.", await WelcomeCookieAsync(site.Gateway, uid, cookies.Issue(8, site.Store.Current!.Table.Zones["sh-b"], "someone-else")), StringComparison.Ordinal);
        Assert.StartsWith("8.sh-a.", await WelcomeCookieAsync(site.Gateway, uid, "garbage"), StringComparison.Ordinal);
    }

    private static async Task<string> WelcomeCookieAsync(MlpTestGateway gateway, string uid, string helloCookie)
    {
        await using var raw = await gateway.OpenRawAsync();
        var hello = RawMlpConnection.Hello("dev-raw-" + Guid.NewGuid().ToString("N"), string.Empty);
        hello.DeviceToken = gateway.TokenFor(hello.DeviceId, uid);
        hello.ZoneCookie = ByteString.CopyFromUtf8(helloCookie);
        await raw.SendAsync(w => AccessLayer.Protocol.Mlp.MlpFrameWriter.WriteHello(w, hello));
        var frame = await raw.ReceiveAsync();
        Assert.Equal(AccessLayer.Protocol.Mlp.MlpFrameType.Welcome, frame.Type);
        return AccessLayer.Protocol.Mlp.Envelopes.Welcome.Parser.ParseFrom(frame.Payload).ZoneCookie.ToStringUtf8();
    }

    [Fact]
    public async Task Calls_of_no_user_go_to_the_equal_zone_with_fewer_calls_in_flight()
    {
        await using var a = await LabelledBackend.StartAsync("sh-a/blue");
        await using var b = await LabelledBackend.StartAsync("sh-b/blue");
        using var file = new TrafficTestTables.File($$"""
            version: 1
            sites:
              sh: { city: shanghai }
            zones:
              sh-a: { site: sh, services: { orders: { blue: ["{{a.Url}}"] } } }
              sh-b: { site: sh, services: { orders: { blue: ["{{b.Url}}"] } } }
            shards:
              0-49: sh-a
              50-99: sh-b
            """);
        await using var gateway = await MlpTestGateway.StartAsync([.. TrafficTestTables.Settings(file), "--Mlp:AllowAnonymous=true"]);
        var options = gateway.ClientOptions("dev-anonymous");
        options.DeviceToken = string.Empty;
        var client = new MlpClient(options);
        await using var _ = client;
        await client.ConnectAsync();

        // One call of no user held in flight in whichever zone it went to.
        var slow = client.CallAsync("orders", "slow", ReadOnlyMemory<byte>.Empty);
        var busy = await Task.WhenAny(a.SlowArrived.Task, b.SlowArrived.Task).WaitAsync(TimeSpan.FromSeconds(20)) == a.SlowArrived.Task ? a : b;
        var idle = busy == a ? b : a;

        for (var i = 0; i < 20; i++)
        {
            var response = await client.CallAsync("orders", "create", "x"u8.ToArray());
            Assert.Equal(idle.Label, Encoding.UTF8.GetString(response.Body.Span));
            Assert.Equal("site_least_outstanding", response.Header("mlp-route-reason"));
            Assert.Null(response.Header("mlp-zone-cookie"));
        }

        busy.Release();
        Assert.Equal(200, (await slow.WaitAsync(TimeSpan.FromSeconds(20))).Status);
    }
}
