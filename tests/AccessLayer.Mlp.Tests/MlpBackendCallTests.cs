using AccessLayer.Client;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Mlp.Routing;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AccessLayer.Mlp.Tests;

/// <summary>
/// The backend call of an <c>Mlp:Routes</c> service as the backend and the client see it, after the call path's
/// allocations were taken off (docs/benchmarks.md, "Traffic"): what is forwarded, what comes back, what is logged,
/// what cancels it.
/// </summary>
public sealed class MlpBackendCallTests
{
    [Fact]
    public async Task The_request_content_type_is_the_clients_valid_one_else_protobuf()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:Routes:orders:Url={backend.Url}"]);
        await using var client = new MlpClient(gateway.ClientOptions("dev-ctype"));
        await client.ConnectAsync();

        async Task<string?> SeenContentType(string? sent)
        {
            var options = sent is null ? null : new MlpCallOptions { Headers = [new HeaderField("content-type", sent)] };
            var response = await client.CallAsync("orders", "headers", new byte[] { 1, 2, 3 }, options);
            Assert.Equal(200, response.Status);
            return response.Header("seen-content-type");
        }

        Assert.Equal("application/x-protobuf", await SeenContentType(null));
        Assert.Equal("application/json; charset=utf-8", await SeenContentType("application/json; charset=utf-8"));
        Assert.Equal("application/x-protobuf", await SeenContentType("not a media type"));
    }

    [Fact]
    public async Task A_header_the_backend_sends_twice_comes_back_as_one_field_joined_with_a_comma()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:Routes:orders:Url={backend.Url}"]);
        await using var client = new MlpClient(gateway.ClientOptions("dev-twice"));
        await client.ConnectAsync();

        // /headers answers each request header as seen-NAME: two values of x-twice become two response lines.
        var response = await client.CallAsync("orders", "headers", ReadOnlyMemory<byte>.Empty, new MlpCallOptions
        {
            Headers = [new HeaderField("x-twice", "a"), new HeaderField("x-twice", "b"), new HeaderField("x-once", "c")],
        });

        Assert.Equal(200, response.Status);
        Assert.Equal("a, b", response.Header("seen-x-twice"));
        Assert.Equal("c", response.Header("seen-x-once"));
        Assert.DoesNotContain(response.Headers, h => h.Name is "date" or "server" or "content-length");
        Assert.All(response.Headers, h => Assert.Equal(h.Name.ToLowerInvariant(), h.Name));
    }

    [Fact]
    public async Task A_backend_call_writes_no_HttpClient_log_lines_even_at_Information()
    {
        var logs = new CapturingLoggerProvider();
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await MlpTestGateway.StartAsync(
            [$"--Mlp:Routes:orders:Url={backend.Url}", "--Logging:LogLevel:Default=Information", "--Logging:LogLevel:System.Net.Http=Information"],
            services => services.AddSingleton<ILoggerProvider>(logs));
        await using var client = new MlpClient(gateway.ClientOptions("dev-quiet"));
        await client.ConnectAsync();

        Assert.Equal(200, (await client.CallAsync("orders", "headers", ReadOnlyMemory<byte>.Empty)).Status);

        // IHttpClientFactory's logging handlers wrote four lines and opened a scope per call; the gateway's own line
        // for a failed call (2010) and its request counter are what an operator reads.
        Assert.DoesNotContain(logs.Lines, l => l.Category.StartsWith("System.Net.Http.HttpClient", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Closing_the_link_cancels_its_backend_call()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:Routes:orders:Url={backend.Url}"]);
        var client = new MlpClient(gateway.ClientOptions("dev-gone"));
        await client.ConnectAsync();

        var call = client.CallAsync("orders", "slow", ReadOnlyMemory<byte>.Empty);
        await backend.SlowRequestArrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await client.DisposeAsync();

        // The deadline (on the gateway's fake clock) never fires: only the link's closing can have cancelled it.
        await backend.SlowRequestAborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAnyAsync<Exception>(() => call);
    }

    [Fact]
    public void An_operations_URI_is_made_once_escaped_as_one_path_segment()
    {
        var uris = new MlpOperationUris();
        var baseUri = new Uri("http://backend.test/api/");

        var first = uris.Get(baseUri, "create order/v2");

        Assert.Same(first, uris.Get(baseUri, "create order/v2"));
        Assert.Equal("http://backend.test/api/create%20order%2Fv2", first.AbsoluteUri);
    }

    [Fact]
    public void Past_its_capacity_the_URI_cache_stops_growing_and_still_answers()
    {
        var uris = new MlpOperationUris();
        var baseUri = new Uri("http://backend.test/");
        for (var i = 0; i < MlpOperationUris.Capacity + 50; i++)
            Assert.Equal($"http://backend.test/op{i}", uris.Get(baseUri, "op" + i).AbsoluteUri);

        Assert.Equal(MlpOperationUris.Capacity, uris.Count);
        Assert.NotSame(uris.Get(baseUri, "op-new"), uris.Get(baseUri, "op-new"));
    }

    [Fact]
    public void The_shared_array_pool_size_is_the_gateways_default_unless_the_environment_sets_one()
    {
        var before = Environment.GetEnvironmentVariable(SharedArrayPoolSize.Variable);
        try
        {
            Environment.SetEnvironmentVariable(SharedArrayPoolSize.Variable, null);
            Assert.Equal("128", SharedArrayPoolSize.Apply());
            Assert.Equal("128", Environment.GetEnvironmentVariable(SharedArrayPoolSize.Variable));

            Environment.SetEnvironmentVariable(SharedArrayPoolSize.Variable, "40");
            Assert.Equal("40", SharedArrayPoolSize.Apply());
            Assert.Equal("40", Environment.GetEnvironmentVariable(SharedArrayPoolSize.Variable));
        }
        finally
        {
            Environment.SetEnvironmentVariable(SharedArrayPoolSize.Variable, before);
        }
    }
}
