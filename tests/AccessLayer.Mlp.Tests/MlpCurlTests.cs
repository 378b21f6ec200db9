using AccessLayer.Client.Cli;
using AccessLayer.Mlp.Tests.Infrastructure;

namespace AccessLayer.Mlp.Tests;

/// <summary>The command-line client against the in-process gateway and backend.</summary>
public sealed class MlpCurlTests
{
    private static async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await MlpCurl.RunAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task A_typed_call_over_the_long_link_prints_JSON_compression_and_bytes()
    {
        using var folder = new TestDictionaries.Folder(40001);
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:Routes:orders:Url={backend.Url}", $"--Mlp:DictionaryPath={folder.Path}"]);

        var (exit, output, error) = await RunAsync("call", "orders", "create", "-g", gateway.TcpEndpoint.ToString(), "--device-id", "cli-1", "--token", gateway.TokenFor("cli-1", "erin"),
            "--type", "CreateOrderRequest", "-d", """{"sku":"milk","quantity":2}""", "--response-type", "CreateOrderResponse");

        Assert.True(exit == 0, error);
        Assert.Contains("status: 200 (via tcp)", output);
        Assert.Contains("\"orderId\": \"ord-milk-2\"", output);
        Assert.Contains("\"userId\": \"erin\"", output);
        Assert.Contains("dictionaries held: 40001", output);
        Assert.Contains("bytes: request frame", output);
    }

    [Fact]
    public async Task The_HTTP_fallback_and_WebSocket_paths_work_with_text_bodies()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        var token = gateway.TokenFor("cli-2");

        var viaHttp = await RunAsync("call", "echo", "say", "--http-fallback", gateway.HttpBase.ToString(), "--device-id", "cli-2", "--token", token, "-d", "over http");
        var viaWs = await RunAsync("call", "echo", "say", "-g", gateway.WebSocketEndpoint.ToString(), "--device-id", "cli-2", "--token", token, "-d", "over ws");

        Assert.Contains("status: 200 (via http)", viaHttp.Output);
        Assert.Contains("over http", viaHttp.Output);
        Assert.Contains("status: 200 (via websocket)", viaWs.Output);
        Assert.Contains("over ws", viaWs.Output);
    }

    [Fact]
    public async Task A_refused_handshake_is_reported_with_its_code_and_exit_2()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        var (exit, _, error) = await RunAsync("call", "echo", "say", "-g", gateway.TcpEndpoint.ToString(), "--token", "not.valid");
        Assert.Equal(2, exit);
        Assert.Contains("AuthFailed", error);
    }
}
