using System.Text;
using AccessLayer.Client;
using AccessLayer.Gateway.Mlp.Auth;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Mlp.Tests.Protos;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp;
using Microsoft.Extensions.DependencyInjection;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Mlp.Tests;

/// <summary>The SDK against the real gateway over loopback sockets, and through it a real HTTP backend.</summary>
public sealed class MlpClientTests
{
    [Fact]
    public async Task Echo_call_over_TCP_round_trips_the_body_and_counts_the_frames()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var client = new MlpClient(gateway.ClientOptions("dev-echo"));
        await client.ConnectAsync();
        Assert.True(client.IsConnected);
        Assert.Equal("tcp", client.Transport);
        Assert.Equal("user-1", client.LastWelcome!.UserId);

        var response = await client.CallAsync("echo", "say", Encoding.UTF8.GetBytes("hello mlp"));

        Assert.Equal(200, response.Status);
        Assert.Equal("hello mlp", Encoding.UTF8.GetString(response.Body.Span));
        Assert.Equal("tcp", response.Transport);
        Assert.True(response.BytesSent > 9 && response.BytesReceived > 9);
        Assert.True(client.BytesSent >= response.BytesSent);
    }

    [Fact]
    public async Task Second_request_headers_shrink_once_the_HPACK_table_is_warm()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var client = new MlpClient(gateway.ClientOptions("dev-hpack"));
        await client.ConnectAsync();
        var options = new MlpCallOptions { Headers = [new HeaderField("app-locale", "zh-CN"), new HeaderField("x-feature-flags", "dark-mode,new-feed,fast-pay")] };

        var first = await client.CallAsync("echo", "say", new byte[10], options);
        var second = await client.CallAsync("echo", "say", new byte[10], options);

        Assert.True(second.BytesSent < first.BytesSent - 40, $"first {first.BytesSent} B, second {second.BytesSent} B");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Typed_call_reaches_the_HTTP_backend_with_the_authenticated_identity(bool http2)
    {
        await using var backend = await TestBackend.StartAsync(http2);
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:Routes:orders:Url={backend.Url}", $"--Mlp:Routes:orders:Http2={http2}"]);
        await using var client = new MlpClient(gateway.ClientOptions("dev-orders", "alice"));
        await client.ConnectAsync();

        var order = await client.CallAsync<CreateOrderRequest, CreateOrderResponse>("orders", "create", new CreateOrderRequest { Sku = "tea", Quantity = 3, Note = "green" });

        Assert.Equal("ord-tea-3", order.OrderId);
        Assert.Equal("dev-orders", order.DeviceId);
        Assert.Equal("alice", order.UserId);
        Assert.Equal(http2 ? "HTTP/2" : "HTTP/1.1", backend.LastProtocol);
    }

    [Fact]
    public async Task Backend_response_headers_come_back_and_identity_headers_cannot_be_spoofed()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:Routes:orders:Url={backend.Url}"]);
        await using var client = new MlpClient(gateway.ClientOptions("dev-hdr", "bob"));
        await client.ConnectAsync();

        var response = await client.CallAsync("orders", "headers", ReadOnlyMemory<byte>.Empty, new MlpCallOptions
        {
            Headers = [new HeaderField("x-mlp-user-id", "root"), new HeaderField("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")],
        });

        Assert.Equal(200, response.Status);
        Assert.Equal("bob", response.Header("seen-x-mlp-user-id"));
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", response.Header("seen-traceparent"));
    }

    [Fact]
    public async Task Unknown_service_is_404_and_failing_backends_are_5xx_on_a_connection_that_stays_up()
    {
        await using var backend = await TestBackend.StartAsync();
        var deadPort = FreePorts.Next();
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:Routes:orders:Url={backend.Url}", $"--Mlp:Routes:dead:Url=http://127.0.0.1:{deadPort}/"]);
        await using var client = new MlpClient(gateway.ClientOptions("dev-errors"));
        await client.ConnectAsync();

        Assert.Equal(404, (await client.CallAsync("nope", "x", ReadOnlyMemory<byte>.Empty)).Status);
        Assert.Equal(502, (await client.CallAsync("dead", "x", ReadOnlyMemory<byte>.Empty)).Status);
        Assert.Equal(500, (await client.CallAsync("orders", "fail", ReadOnlyMemory<byte>.Empty)).Status);
        var typed = await Assert.ThrowsAsync<MlpStatusException>(() => client.CallAsync<CreateOrderRequest, CreateOrderResponse>("nope", "x", new CreateOrderRequest()));
        Assert.Equal(404, typed.Status);

        Assert.True(client.IsConnected);
        Assert.Equal(200, (await client.CallAsync("echo", "x", new byte[] { 1 })).Status);
    }

    [Fact]
    public async Task Backend_timeout_is_a_504_response_driven_by_the_gateway_clock()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:Routes:orders:Url={backend.Url}", "--Mlp:Routes:orders:TimeoutSeconds=5"]);
        await using var client = new MlpClient(gateway.ClientOptions("dev-slow"));
        await client.ConnectAsync();

        var call = client.CallAsync("orders", "slow", ReadOnlyMemory<byte>.Empty);
        await backend.SlowRequestArrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(call.IsCompleted);
        gateway.Time.Advance(TimeSpan.FromSeconds(6));

        var response = await call.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(504, response.Status);
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task WebSocket_transport_carries_calls()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var client = new MlpClient(gateway.ClientOptions("dev-ws", endpoint: gateway.WebSocketEndpoint));
        await client.ConnectAsync();
        Assert.Equal("websocket", client.Transport);

        var big = new byte[40_000];
        new Random(3).NextBytes(big);
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => client.CallAsync("echo", "n" + i, i == 0 ? big : Encoding.UTF8.GetBytes("call " + i))));

        Assert.Equal(big, responses[0].Body.ToArray());
        for (var i = 1; i < 20; i++)
            Assert.Equal("call " + i, Encoding.UTF8.GetString(responses[i].Body.Span));
        Assert.All(responses, r => Assert.Equal("websocket", r.Transport));
    }

    [Fact]
    public async Task Http_fallback_answers_when_the_long_link_is_down()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:Routes:orders:Url={backend.Url}"]);
        await using var client = new MlpClient(gateway.ClientOptions("dev-fallback", "carol"));
        Assert.False(client.IsConnected);

        var order = await client.CallAsync<CreateOrderRequest, CreateOrderResponse>("orders", "create", new CreateOrderRequest { Sku = "rice", Quantity = 1 });
        var echo = await client.CallAsync("echo", "x", Encoding.UTF8.GetBytes(new string('a', 500)));

        Assert.Equal("carol", order.UserId);
        Assert.Equal("dev-fallback", order.DeviceId);
        Assert.Equal("http", echo.Transport);
        Assert.Equal(new string('a', 500), Encoding.UTF8.GetString(echo.Body.Span));
        Assert.True(echo.RequestCompressed && echo.ResponseCompressed, "zstd is used both ways over the fallback too");
    }

    [Fact]
    public async Task Http_fallback_accepts_the_resume_ticket_instead_of_the_token()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var client = new MlpClient(gateway.ClientOptions("dev-fb-ticket"));
        await client.ConnectAsync();
        await client.CloseAsync();
        client.Options.DeviceToken = string.Empty;

        var response = await client.CallAsync("echo", "x", new byte[] { 7 }, new MlpCallOptions { ForceHttpFallback = true });

        Assert.Equal(200, response.Status);
        Assert.Equal("http", response.Transport);
    }

    [Fact]
    public async Task Resume_ticket_skips_authentication_and_resumes_the_session()
    {
        var authenticator = new CountingAuthenticator();
        await using var gateway = await MlpTestGateway.StartAsync(services: s => s.AddSingleton<IMlpAuthenticator>(authenticator));
        await using var client = new MlpClient(gateway.ClientOptions("dev-resume"));
        await client.ConnectAsync();
        var session = client.SessionId;
        Assert.Equal(1, authenticator.Calls);
        Assert.False(client.SessionResumed);
        Assert.False(client.ResumeTicket.IsEmpty);

        await client.CloseAsync();
        client.Options.DeviceToken = "not-a-valid-token";
        await client.ConnectAsync();

        Assert.Equal(1, authenticator.Calls);
        Assert.True(client.SessionResumed);
        Assert.Equal(session, client.SessionId);
        Assert.Equal(200, (await client.CallAsync("echo", "x", new byte[] { 1 })).Status);
    }

    [Fact]
    public async Task Rejected_ticket_falls_back_to_the_token_and_a_new_session()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var client = new MlpClient(gateway.ClientOptions("dev-badticket"));
        client.ResumeTicket = new byte[64];

        await client.ConnectAsync();

        Assert.True(client.IsConnected);
        Assert.False(client.SessionResumed);
    }

    [Fact]
    public async Task Bad_token_is_refused_with_AUTH_FAILED()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        var options = gateway.ClientOptions("dev-bad");
        options.DeviceToken = gateway.TokenFor("someone-else");
        await using var client = new MlpClient(options);

        var error = await Assert.ThrowsAsync<MlpException>(() => client.ConnectAsync());

        Assert.Equal(MlpErrorCode.AuthFailed, error.Code);
        Assert.False(client.IsConnected);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Tokenless_devices_are_admitted_only_when_anonymous_is_allowed(bool allowed)
    {
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:AllowAnonymous={allowed}"]);
        var options = gateway.ClientOptions("dev-anon");
        options.DeviceToken = string.Empty;
        await using var client = new MlpClient(options);

        if (allowed)
        {
            await client.ConnectAsync();
            Assert.Equal(string.Empty, client.LastWelcome!.UserId);
        }
        else
        {
            Assert.Equal(MlpErrorCode.AuthFailed, (await Assert.ThrowsAsync<MlpException>(() => client.ConnectAsync())).Code);
        }
    }

    [Fact]
    public async Task Missing_dictionary_is_fetched_and_then_used_for_requests_and_responses()
    {
        using var folder = new TestDictionaries.Folder(40001);
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:DictionaryPath={folder.Path}"]);
        await using var client = new MlpClient(gateway.ClientOptions("dev-dict"));

        await client.ConnectAsync();

        Assert.Equal(40001u, client.LastWelcome!.DictionaryId);
        Assert.Contains(40001u, client.DictionaryIds);
        var body = TestDictionaries.FeedBody();
        var response = await client.CallAsync("echo", "feed", body);
        Assert.Equal(body, response.Body.ToArray());
        Assert.True(response.RequestCompressed);
        Assert.Equal(40001u, response.RequestDictionaryId);
        Assert.True(response.ResponseCompressed);
        Assert.Equal(40001u, response.ResponseDictionaryId);
        Assert.True(response.BytesSent < body.Length * 0.6, $"{response.BytesSent} bytes sent for a {body.Length}-byte body");

        // A client that remembers the dictionary announces it and does not fetch it again.
        await client.CloseAsync();
        var remembered = new AccessLayer.Client.Dictionaries.InMemoryMlpDictionaryStore();
        remembered.Save(40001, TestDictionaries.Get(40001));
        var thirdOptions = gateway.ClientOptions("dev-dict-3");
        thirdOptions.Dictionaries = remembered;
        await using var third = new MlpClient(thirdOptions);
        var before = third.BytesReceived;
        await third.ConnectAsync();
        Assert.True(third.BytesReceived - before < 2000, "no DICT data was needed");
        Assert.Equal(40001u, (await third.CallAsync("echo", "feed", body)).ResponseDictionaryId);
    }

    [Fact]
    public async Task A_newer_dictionary_is_offered_to_connected_clients_after_a_reload()
    {
        using var folder = new TestDictionaries.Folder(40001);
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:DictionaryPath={folder.Path}"]);
        await using var client = new MlpClient(gateway.ClientOptions("dev-offer"));
        var added = new TaskCompletionSource<uint>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.DictionaryAdded += id => { if (id == 40002) added.TrySetResult(id); };
        await client.ConnectAsync();

        folder.Add(40002);
        using var http = gateway.CreateManagementClient();
        var reload = await http.PostAsync(new Uri("api/v1/mlp/dictionaries/reload", UriKind.Relative), null);
        Assert.Contains("\"current\":40002", await reload.Content.ReadAsStringAsync());

        Assert.Equal(40002u, await added.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains(40002u, client.DictionaryIds);
    }

    [Fact]
    public async Task Pings_measure_the_round_trip()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var client = new MlpClient(gateway.ClientOptions("dev-ping"));
        await client.ConnectAsync();

        var rtt = await client.PingAsync();

        Assert.True(rtt >= TimeSpan.Zero && rtt < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_second_connection_of_the_same_device_takes_the_session_over()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var first = new MlpClient(gateway.ClientOptions("dev-twice"));
        await first.ConnectAsync();
        var gone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        first.Disconnected += _ => gone.TrySetResult();

        await using var second = new MlpClient(gateway.ClientOptions("dev-twice"));
        await second.ConnectAsync();

        await gone.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(MlpErrorCode.SessionTakenOver, first.LastGoAway!.Code);
        Assert.True(second.IsConnected);
    }

    private sealed class CountingAuthenticator : IMlpAuthenticator
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public ValueTask<MlpAuthResult> AuthenticateAsync(MlpAuthRequest request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            return ValueTask.FromResult(request.DeviceToken.Length > 0 && request.DeviceToken != "not-a-valid-token"
                ? MlpAuthResult.Success(request.DeviceId, "counted-user")
                : MlpAuthResult.Fail("bad token"));
        }
    }
}
