using System.Collections.Concurrent;
using System.Text.Json;
using AccessLayer.Tests.Shared;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AccessLayer.Gateway.Tests.Traffic;

/// <summary>One batch as a backend received it: the uplink and routing headers (x-uplink-*, x-mlp-*) and the JSON body.</summary>
internal sealed record UplinkBatch(IReadOnlyDictionary<string, string> Headers, JsonElement Body)
{
    public string BatchId => Headers["x-uplink-batch-id"];

    public JsonElement[] Messages => [.. Body.GetProperty("messages").EnumerateArray()];
}

/// <summary>
/// A real HTTP backend for MQTT uplinks on a free loopback port, labelled with its place in the table (e.g. <c>sh-a/blue</c>).
/// <c>POST /{operation}</c> records the batch and answers as <see cref="Answer"/> says: 200, another status, or hang
/// until <see cref="ReleaseHung"/> (or the caller gives up). Every attempt is recorded in <see cref="Attempts"/>, the
/// answered 2xx ones in <see cref="Accepted"/>.
/// </summary>
internal sealed class UplinkBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private TaskCompletionSource _hung = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private UplinkBackend(WebApplication app, int port, string label)
    {
        _app = app;
        Port = port;
        Label = label;
    }

    public int Port { get; }

    public string Label { get; }

    public string Url => $"http://127.0.0.1:{Port}/";

    /// <summary>The status to answer with; 0: hang until released.</summary>
    public int Answer { get; set; } = 200;

    public ConcurrentQueue<UplinkBatch> Attempts { get; } = new();

    public ConcurrentQueue<UplinkBatch> Accepted { get; } = new();

    /// <summary>Completed when an attempt arrives while hanging.</summary>
    public TaskCompletionSource HangArrived { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets the hung attempts go (answered 200) and stops hanging.</summary>
    public void ReleaseHung()
    {
        Answer = 200;
        _hung.TrySetResult();
    }

    public void Hang()
    {
        _hung = new(TaskCreationOptions.RunContinuationsAsynchronously);
        HangArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Answer = 0;
    }

    public static async Task<UplinkBackend> StartAsync(string label)
    {
        var port = FreePorts.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port));
        var app = builder.Build();
        UplinkBackend? backend = null;
        app.MapPost("/{operation}", async (HttpContext context) =>
        {
            var headers = context.Request.Headers.Where(h => h.Key.StartsWith("x-uplink-", StringComparison.OrdinalIgnoreCase) || h.Key.StartsWith("x-mlp-", StringComparison.OrdinalIgnoreCase))
                .ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal);
            headers["path"] = context.Request.Path.Value ?? string.Empty;
            using var json = await JsonDocument.ParseAsync(context.Request.Body);
            var batch = new UplinkBatch(headers, json.RootElement.Clone());
            backend!.Attempts.Enqueue(batch);
            var answer = backend.Answer;
            if (answer == 0)
            {
                backend.HangArrived.TrySetResult();
                await backend._hung.Task.WaitAsync(context.RequestAborted);
                answer = 200;
            }

            if (answer is >= 200 and < 300)
                backend.Accepted.Enqueue(batch);
            context.Response.StatusCode = answer;
        });
        await app.StartAsync();
        backend = new UplinkBackend(app, port, label);
        return backend;
    }

    public async ValueTask DisposeAsync()
    {
        _hung.TrySetResult();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
