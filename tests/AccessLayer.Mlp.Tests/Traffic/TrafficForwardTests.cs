using System.Net;
using System.Text;
using AccessLayer.Client;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AccessLayer.Mlp.Tests.Traffic;

/// <summary>
/// Two real gateways labelled as two sites (sh and bj), each with its own table file and backend: a call for a zone of
/// the other site is forwarded once to that site's gateway, never twice, and a forward is taken only with a gateway's signature.
/// </summary>
public sealed class TrafficForwardTests
{
    /// <summary>Sites sh and bj with one zone each (sh-a: shards <paramref name="shShards"/>, bj-a the rest), each site's gateway at its HTTP port.</summary>
    /// <param name="http2">The sites' gateways are named at the given ports as h2c (their Traffic:ForwardPort).</param>
    private static string Table(long version, int shHttpPort, int bjHttpPort, LabelledBackend sh, LabelledBackend bj, string shShards = "0-49", string bjShards = "50-99", bool http2 = false, bool link = false) => $$"""
        version: {{version}}
        sites:
          sh: { city: shanghai, gateways: ["http://127.0.0.1:{{shHttpPort}}/"], http2: {{(http2 ? "true" : "false")}}, link: {{(link ? "true" : "false")}} }
          bj: { city: beijing, gateways: ["http://127.0.0.1:{{bjHttpPort}}/"], http2: {{(http2 ? "true" : "false")}}, link: {{(link ? "true" : "false")}} }
        zones:
          sh-a: { site: sh, services: { orders: { blue: ["{{sh.Url}}"] } } }
          bj-a: { site: bj, services: { orders: { blue: ["{{bj.Url}}"] } } }
        shards:
          {{shShards}}: sh-a
          {{bjShards}}: bj-a
        """;

    private sealed class TwoSites : IAsyncDisposable
    {
        public required MlpTestGateway Sh { get; init; }
        public required MlpTestGateway Bj { get; init; }
        public required LabelledBackend ShBackend { get; init; }
        public required LabelledBackend BjBackend { get; init; }
        public required TrafficTestTables.File ShFile { get; init; }
        public required TrafficTestTables.File BjFile { get; init; }
        public required CapturingLoggerProvider BjLogs { get; init; }

        /// <summary>sh's device surface (the port its table entry names).</summary>
        public required Uri ShHttp { get; init; }

        /// <summary>bj's device surface (the port its table entry names, not the fixture's own pick).</summary>
        public required Uri BjHttp { get; init; }

        /// <summary>bj's Traffic:ForwardPort (0 unless started with http2 or link).</summary>
        public required int BjForwardPort { get; init; }

        /// <param name="bjSeesAllInSh">bj's table puts every uid in sh-a while sh's puts the upper half in bj-a: a call would bounce back.</param>
        /// <param name="http2">Each gateway also listens on a Traffic:ForwardPort (h2c), and the table names only those ports for the sites.</param>
        /// <param name="link">As <paramref name="http2"/>, the table marking the sites <c>link: true</c>: forwards over site links.</param>
        public static async Task<TwoSites> StartAsync(bool bjSeesAllInSh = false, bool http2 = false, bool link = false)
        {
            http2 |= link;
            var shBackend = await LabelledBackend.StartAsync("sh-a/blue");
            var bjBackend = await LabelledBackend.StartAsync("bj-a/blue");
            var shPort = FreePorts.Next();
            var bjPort = FreePorts.Next();
            var shForward = http2 ? FreePorts.Next() : 0;
            var bjForward = http2 ? FreePorts.Next() : 0;
            var shFile = new TrafficTestTables.File(http2 ? Table(1, shForward, bjForward, shBackend, bjBackend, http2: !link, link: link) : Table(1, shPort, bjPort, shBackend, bjBackend));
            // Mid-rollout: bj already has version 2, which puts everyone in sh (sh's cookies of version 1 are stale there).
            var bjFile = new TrafficTestTables.File(bjSeesAllInSh
                ? Table(2, shPort, bjPort, shBackend, bjBackend, shShards: "0-99", bjShards: "0-0").Replace("  0-0: bj-a\n", string.Empty, StringComparison.Ordinal).Replace("\n  0-0: bj-a", string.Empty, StringComparison.Ordinal)
                : http2 ? Table(1, shForward, bjForward, shBackend, bjBackend, http2: !link, link: link) : Table(1, shPort, bjPort, shBackend, bjBackend));
            var logs = new CapturingLoggerProvider();
            var sh = await MlpTestGateway.StartAsync([.. TrafficTestTables.Settings(shFile, "sh"), $"--Http:Port={shPort}", $"--Traffic:ForwardPort={shForward}"]);
            var bj = await MlpTestGateway.StartAsync([.. TrafficTestTables.Settings(bjFile, "bj"), $"--Http:Port={bjPort}", $"--Traffic:ForwardPort={bjForward}"], s => s.AddSingleton<ILoggerProvider>(logs));
            return new TwoSites { Sh = sh, Bj = bj, ShBackend = shBackend, BjBackend = bjBackend, ShFile = shFile, BjFile = bjFile, BjLogs = logs, BjHttp = new Uri($"http://127.0.0.1:{bjPort}/"), ShHttp = new Uri($"http://127.0.0.1:{shPort}/"), BjForwardPort = bjForward };
        }

        public async ValueTask DisposeAsync()
        {
            await Sh.DisposeAsync();
            await Bj.DisposeAsync();
            await ShBackend.DisposeAsync();
            await BjBackend.DisposeAsync();
            ShFile.Dispose();
            BjFile.Dispose();
        }
    }

    private static async Task<MlpClient> ConnectAsync(MlpTestGateway gateway, string uid, Uri http)
    {
        var options = gateway.ClientOptions("dev-" + uid, uid);
        options.HttpFallbackEndpoint = http;
        options.Platform = "android";
        var client = new MlpClient(options);
        await client.ConnectAsync();
        return client;
    }

    [Fact]
    public async Task A_call_for_a_zone_of_another_site_is_forwarded_once_to_that_sites_gateway()
    {
        await using var sites = await TwoSites.StartAsync();
        var uid = TrafficTestTables.UidInShards(50, 99);
        await using var client = await ConnectAsync(sites.Sh, uid, sites.ShHttp);

        var response = await client.CallAsync("orders", "create", "x"u8.ToArray());

        Assert.Equal(200, response.Status);
        Assert.Equal("bj-a/blue", Encoding.UTF8.GetString(response.Body.Span));
        Assert.Equal("bj-a", response.Header("mlp-zone"));
        Assert.Equal("bj", response.Header("mlp-site"));
        Assert.Equal("sh", response.Header("mlp-forwarded-by"));
        // sh's WELCOME cookie (the secret is shared) travelled with the forward and bj honoured it.
        Assert.StartsWith("1.bj-a.", client.LastWelcome!.ZoneCookie.ToStringUtf8(), StringComparison.Ordinal);
        Assert.Equal("cookie", response.Header("mlp-route-reason"));
        // The identity the backend sees is the session's, carried across by the signed forward.
        var call = Assert.Single(sites.BjBackend.Calls);
        Assert.Equal(uid, call["x-mlp-user-id"]);
        Assert.Equal("dev-" + uid, call["x-mlp-device-id"]);
        Assert.Empty(sites.ShBackend.Calls);

        // Over the HTTP fallback (no link, no cookie) bj looks the user up and issues the cookie; sh honours it.
        var fallback = await client.CallAsync("orders", "create", "x"u8.ToArray(), new MlpCallOptions { ForceHttpFallback = true });
        Assert.Equal("shard", fallback.Header("mlp-route-reason"));
        var cookie = fallback.Header("mlp-zone-cookie");
        Assert.StartsWith("1.bj-a.", cookie, StringComparison.Ordinal);
        var again = await client.CallAsync("orders", "create", "x"u8.ToArray(), new MlpCallOptions { Headers = [new("mlp-zone-cookie", cookie!)] });
        Assert.Equal("bj-a/blue", Encoding.UTF8.GetString(again.Body.Span));
        Assert.Equal("cookie", again.Header("mlp-route-reason"));

        using var http = new HttpClient { BaseAddress = sites.Sh.ManagementBase };
        Assert.Matches("accesslayer_traffic_forwarded_total\\{[^}]*result=\"ok\"[^}]*\\} 3", await http.GetStringAsync(new Uri("metrics", UriKind.Relative)));
    }

    [Fact]
    public async Task A_site_marked_http2_is_forwarded_to_over_h2c_on_its_forward_port()
    {
        // The table names only bj's Traffic:ForwardPort, which speaks HTTP/2 alone: an HTTP/1.1 forward would find no answer (502).
        await using var sites = await TwoSites.StartAsync(http2: true);
        var uid = TrafficTestTables.UidInShards(50, 99);
        await using var client = await ConnectAsync(sites.Sh, uid, sites.ShHttp);

        var response = await client.CallAsync("orders", "create", "x"u8.ToArray());

        Assert.Equal(200, response.Status);
        Assert.Equal("bj-a/blue", Encoding.UTF8.GetString(response.Body.Span));
        Assert.Equal("sh", response.Header("mlp-forwarded-by"));
        Assert.Equal(uid, Assert.Single(sites.BjBackend.Calls)["x-mlp-user-id"]);
    }

    [Fact]
    public async Task A_forwarded_call_is_never_forwarded_again()
    {
        // sh's table sends the user to bj; bj's (say, mid-rollout) sends them back to sh. One hop, then 508.
        await using var sites = await TwoSites.StartAsync(bjSeesAllInSh: true);
        await using var client = await ConnectAsync(sites.Sh, TrafficTestTables.UidInShards(50, 99), sites.ShHttp);

        var response = await client.CallAsync("orders", "create", "x"u8.ToArray());

        Assert.Equal(508, response.Status);
        Assert.Equal("sh", response.Header("mlp-forwarded-by"));
        Assert.Empty(sites.ShBackend.Calls);
        Assert.Empty(sites.BjBackend.Calls);
        Assert.Contains(sites.BjLogs.Lines, l => l.EventId.Id == 3005);
        using var http = new HttpClient { BaseAddress = sites.Bj.ManagementBase };
        Assert.Matches("accesslayer_traffic_forwards_refused_total\\{[^}]*reason=\"loop\"[^}]*\\} 1", await http.GetStringAsync(new Uri("metrics", UriKind.Relative)));
    }

    [Fact]
    public async Task A_forward_without_a_gateways_signature_is_refused_and_reaches_no_backend()
    {
        await using var sites = await TwoSites.StartAsync();
        using var http = new HttpClient { BaseAddress = sites.BjHttp };
        using var forged = new HttpRequestMessage(HttpMethod.Post, new Uri("traffic/v1/forward/orders/create", UriKind.Relative)) { Content = new ByteArrayContent("x"u8.ToArray()) };
        // Anyone can name a user in a header: without the shared secret's signature it is not taken.
        forged.Headers.Add("x-mlp-user-id", TrafficTestTables.UidInShards(50, 99));
        forged.Headers.Add("x-traffic-hop", "sh");
        forged.Headers.Add("x-traffic-time", sites.Bj.Time.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        forged.Headers.Add("x-traffic-signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");

        using var answer = await http.SendAsync(forged);

        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
        Assert.Empty(sites.BjBackend.Calls);
    }

    [Fact]
    public async Task Calls_for_a_site_marked_link_travel_on_one_kept_connection_to_its_gateway()
    {
        // Every forward to bj over HTTP cost both gateways a whole HTTP/2 request; a site link carries them all as frames.
        await using var sites = await TwoSites.StartAsync(link: true);
        var uids = Enumerable.Range(0, 3).Select(i => TrafficTestTables.UidInShards(50, 99, skip: i)).ToArray();
        var clients = await Task.WhenAll(uids.Select(uid => ConnectAsync(sites.Sh, uid, sites.ShHttp)));
        try
        {
            var calls = clients.SelectMany(c => Enumerable.Range(0, 10).Select(i => c.CallAsync("orders", "create", Encoding.UTF8.GetBytes("call " + i)))).ToArray();
            var responses = await Task.WhenAll(calls);

            Assert.All(responses, r =>
            {
                Assert.Equal(200, r.Status);
                Assert.Equal("bj-a/blue", Encoding.UTF8.GetString(r.Body.Span));
                Assert.Equal("sh", r.Header("mlp-forwarded-by"));
                Assert.Equal("bj", r.Header("mlp-site"));
            });
            Assert.Equal(30, sites.BjBackend.Calls.Count);
            // The identity each call carried across is its own session's.
            Assert.Equal(uids.Order(StringComparer.Ordinal), sites.BjBackend.Calls.Select(c => c["x-mlp-user-id"]).Distinct().Order(StringComparer.Ordinal));
            Assert.Empty(sites.ShBackend.Calls);
            using var sh = new HttpClient { BaseAddress = sites.Sh.ManagementBase };
            using var bj = new HttpClient { BaseAddress = sites.Bj.ManagementBase };
            var shMetrics = await sh.GetStringAsync(new Uri("metrics", UriKind.Relative));
            Assert.Matches("accesslayer_traffic_links_total\\{[^}]*direction=\"out\"[^}]*\\} 1(?!\\d)", shMetrics);
            Assert.Matches("accesslayer_traffic_forwarded_total\\{[^}]*result=\"ok\"[^}]*\\} 30(?!\\d)", shMetrics);
            Assert.Matches("accesslayer_traffic_links_total\\{[^}]*direction=\"in\"[^}]*\\} 1(?!\\d)", await bj.GetStringAsync(new Uri("metrics", UriKind.Relative)));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_gateway_with_a_site_link_open_stops_at_once_and_calls_for_its_site_are_then_answered_502()
    {
        await using var sites = await TwoSites.StartAsync(link: true);
        await using var client = await ConnectAsync(sites.Sh, TrafficTestTables.UidInShards(50, 99), sites.ShHttp);
        Assert.Equal(200, (await client.CallAsync("orders", "create", "x"u8.ToArray())).Status);

        // bj stops: a link is no HTTP connection Kestrel can drain, so it ends the link itself (else the stop waits out
        // Kestrel's shutdown timeout, 30 s) after answering what it read.
        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await sites.Bj.DisposeAsync();
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"bj took {stopping.Elapsed} to stop");

        // The kept link is gone and a new one cannot be opened. The call's deadline (20 s) is far off.
        var started = System.Diagnostics.Stopwatch.StartNew();
        var response = await client.CallAsync("orders", "create", "x"u8.ToArray(), new MlpCallOptions { Timeout = TimeSpan.FromSeconds(20) });

        Assert.Equal(502, response.Status);
        Assert.Contains("bj", response.Header("error-message"), StringComparison.Ordinal);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"answered after {started.Elapsed}");
    }

    [Fact]
    public async Task A_link_call_without_a_gateways_signature_is_refused_and_the_link_stays()
    {
        await using var sites = await TwoSites.StartAsync(link: true);
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, sites.BjForwardPort);
        await using var stream = new System.Net.Sockets.NetworkStream(socket);
        var forged = new AccessLayer.Gateway.Traffic.TrafficForward(sites.Bj.Time.GetUtcNow().ToUnixTimeSeconds(), "sh", "orders", "create", "dev-x", TrafficTestTables.UidInShards(50, 99), "s", false, null, null);
        await stream.WriteAsync(AccessLayer.Gateway.Traffic.TrafficLinkFrames.Magic.ToArray());

        for (uint id = 1; id <= 2; id++)
        {
            // Anyone who reaches the port can name a user: without the shared secret's signature the call is not taken.
            var frame = AccessLayer.Gateway.Traffic.TrafficLinkFrames.EncodeCall(id, forged, 1000, new byte[32], [], null, "x"u8, out var length);
            await stream.WriteAsync(frame.AsMemory(0, length));
            var (refused, reason) = AccessLayer.Gateway.Traffic.TrafficLinkFrames.ReadRefusal(await ReadFrameAsync(stream));
            Assert.Equal(id, refused);
            Assert.Contains("signature", reason, StringComparison.Ordinal);
        }

        Assert.Empty(sites.BjBackend.Calls);
    }

    [Fact]
    public async Task A_link_frame_past_the_body_limit_ends_the_link_with_a_reason_the_peer_can_read()
    {
        await using var sites = await TwoSites.StartAsync(link: true);
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, sites.BjForwardPort);
        await using var stream = new System.Net.Sockets.NetworkStream(socket);

        // Known from its length alone: not a byte of the 2 GB is awaited or buffered.
        await stream.WriteAsync(new byte[] { (byte)'A', (byte)'L', (byte)'T', (byte)'1', 0x7f, 0xff, 0xff, 0xff });

        var (id, reason) = AccessLayer.Gateway.Traffic.TrafficLinkFrames.ReadRefusal(await ReadFrameAsync(stream));
        Assert.Equal(0u, id);
        Assert.Contains("limit", reason, StringComparison.Ordinal);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal(0, await stream.ReadAsync(new byte[16], timeout.Token));
    }

    /// <summary>One whole frame from a raw link socket.</summary>
    private static async Task<System.Buffers.ReadOnlySequence<byte>> ReadFrameAsync(System.Net.Sockets.NetworkStream stream)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var header = new byte[4];
        await stream.ReadExactlyAsync(header, timeout.Token);
        var frame = new byte[System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header)];
        await stream.ReadExactlyAsync(frame, timeout.Token);
        return new System.Buffers.ReadOnlySequence<byte>(frame);
    }
}
