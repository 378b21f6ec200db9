using AccessLayer.Mlp.Tests.Protos;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Mlp.Tests.Infrastructure;

/// <summary>
/// A real HTTP backend on a free loopback port (Kestrel, HTTP/1.1 and h2c): <c>POST /create</c> takes a
/// <see cref="CreateOrderRequest"/> and answers a <see cref="CreateOrderResponse"/> with the identity the
/// gateway forwarded; <c>/slow</c> never answers (until cancelled: <see cref="SlowRequestAborted"/>); <c>/held</c> answers when the test releases it; <c>/fail</c> answers 500;
/// <c>/headers</c> echoes request headers as response headers (prefix <c>seen-</c>); <c>/count</c> is a side
/// effect: it counts each request it gets (<see cref="Counted"/>, the <c>idempotency-key</c>s in <see cref="IdempotencyKeys"/>).
/// </summary>
internal sealed class TestBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestBackend(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/";

    public TaskCompletionSource SlowRequestArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A <c>/slow</c> request was cancelled by the caller (its connection or stream reset).</summary>
    public TaskCompletionSource SlowRequestAborted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string? LastProtocol { get; private set; }

    /// <summary><c>/held</c> requests that arrived (one count each); each waits for one <see cref="HeldRelease"/> count, so a test on a fake clock can let time pass while a call is out.</summary>
    public SemaphoreSlim HeldArrived { get; } = new(0);

    public SemaphoreSlim HeldRelease { get; } = new(0);

    private int _counted;

    /// <summary>Requests <c>/count</c> has executed.</summary>
    public int Counted => Volatile.Read(ref _counted);

    public System.Collections.Concurrent.ConcurrentQueue<string> IdempotencyKeys { get; } = new();

    /// <summary>The <c>traceparent</c> of the last <c>/headers</c> request (empty when it had none).</summary>
    public string? LastTraceParent { get; private set; }

    public static async Task<TestBackend> StartAsync(bool http2 = false)
    {
        var port = FreePorts.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port, l => l.Protocols = http2 ? HttpProtocols.Http2 : HttpProtocols.Http1));
        var app = builder.Build();
        TestBackend? backend = null;
        app.MapPost("/create", async (HttpContext context) =>
        {
            backend!.LastProtocol = context.Request.Protocol;
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var request = CreateOrderRequest.Parser.ParseFrom(body.ToArray());
            var response = new CreateOrderResponse
            {
                OrderId = "ord-" + request.Sku + "-" + request.Quantity,
                Sku = request.Sku,
                Quantity = request.Quantity,
                Note = request.Note,
                DeviceId = context.Request.Headers["x-mlp-device-id"].ToString(),
                UserId = context.Request.Headers["x-mlp-user-id"].ToString(),
            };
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Headers["order-region"] = "eu-1";
            await context.Response.Body.WriteAsync(response.ToByteArray());
        });
        app.MapPost("/slow", async (HttpContext context) =>
        {
            backend!.SlowRequestArrived.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                backend.SlowRequestAborted.TrySetResult();
                throw;
            }
        });
        app.MapPost("/held", async (HttpContext context) =>
        {
            backend!.HeldArrived.Release();
            await backend.HeldRelease.WaitAsync(context.RequestAborted);
            return Results.Text("released");
        });
        app.MapPost("/fail", () => Results.StatusCode(500));
        app.MapPost("/count", (HttpContext context) =>
        {
            var count = Interlocked.Increment(ref backend!._counted);
            backend.IdempotencyKeys.Enqueue(context.Request.Headers["idempotency-key"].ToString());
            return Results.Text(count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        });
        app.MapPost("/headers", (HttpContext context) =>
        {
            backend!.LastTraceParent = context.Request.Headers["traceparent"].ToString();
            foreach (var (name, value) in context.Request.Headers)
                context.Response.Headers["seen-" + name.ToLowerInvariant()] = value;
            return Results.Ok();
        });
        await app.StartAsync();
        backend = new TestBackend(app, port);
        return backend;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
