using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Mlp.Tests.Traffic;

/// <summary>
/// A real HTTP backend on a free loopback port labelled with its place in a traffic table (e.g. <c>sh-a/blue</c>):
/// every operation answers 200 with the label as body and the routing headers it was sent (x-mlp-*, mlp-*) echoed as <c>seen-*</c>;
/// <c>/slow</c> answers only once <see cref="Release"/> is called; <c>GET /healthz</c> answers 200 or, when not
/// <see cref="Healthy"/>, 503. It keeps the headers of every call it served.
/// </summary>
internal sealed class LabelledBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _healthChecks;

    private LabelledBackend(WebApplication app, int port, string label)
    {
        _app = app;
        Port = port;
        Label = label;
    }

    public int Port { get; }

    public string Label { get; }

    public string Url => $"http://127.0.0.1:{Port}/";

    public TaskCompletionSource SlowArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Per call served: the routing headers it carried (x-mlp-*, mlp-*).</summary>
    public ConcurrentQueue<IReadOnlyDictionary<string, string>> Calls { get; } = new();

    public bool Healthy { get; set; } = true;

    /// <summary>How many <c>GET /healthz</c> it answered.</summary>
    public int HealthChecks => Volatile.Read(ref _healthChecks);

    public void Release() => _release.TrySetResult();

    public static async Task<LabelledBackend> StartAsync(string label)
    {
        var port = FreePorts.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port));
        var app = builder.Build();
        LabelledBackend? backend = null;
        app.MapGet("/healthz", () =>
        {
            Interlocked.Increment(ref backend!._healthChecks);
            return backend.Healthy ? Results.Ok() : Results.StatusCode(503);
        });
        app.MapPost("/{operation}", async (HttpContext context, string operation) =>
        {
            var seen = context.Request.Headers.Where(h => h.Key.StartsWith("x-mlp-", StringComparison.OrdinalIgnoreCase) || h.Key.StartsWith("mlp-", StringComparison.OrdinalIgnoreCase))
                .ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal);
            backend!.Calls.Enqueue(seen);
            if (operation == "slow")
            {
                backend.SlowArrived.TrySetResult();
                await backend._release.Task.WaitAsync(context.RequestAborted);
            }

            foreach (var (name, value) in seen)
                context.Response.Headers["seen-" + name] = value;
            await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(label));
        });
        await app.StartAsync();
        backend = new LabelledBackend(app, port, label);
        return backend;
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
