using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AccessLayer.Lab;

/// <summary>
/// The backend the gateway routes service <c>shop</c> to (Kestrel on the mgmt address of the client namespace):
/// <c>POST /get</c> is a read (idempotent), <c>POST /add</c> a side effect (an order line added), executed once
/// per request, and once per <c>idempotency-key</c> when the request carries one (a repeat gets the stored result);
/// every execution is counted by the request's <c>x-request-id</c> so a duplicate (a retry or hedge that ran twice)
/// shows as a count above one.
/// </summary>
internal sealed class MockBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _executions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<byte[]>> _results = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, double> _firstArrival = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _arrivals = new(StringComparer.Ordinal);
    private readonly Func<double> _now;
    private long _requests;
    private long _repeats;

    private MockBackend(WebApplication app, Func<double> now)
    {
        _app = app;
        _now = now;
    }

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Requests of <c>add</c> that repeated an idempotency key already executed, answered from the stored result.</summary>
    public long Repeats => Interlocked.Read(ref _repeats);

    /// <summary>When the first copy of request <paramref name="id"/> reached the backend (seconds on the scenario's clock); null if none did.</summary>
    public double? FirstArrival(string id) => _firstArrival.TryGetValue(id, out var at) ? at : null;

    /// <param name="now">The scenario's clock (the lab's process: the same clock as the clients'), for per-call timelines.</param>
    public static async Task<MockBackend> StartAsync(string address, int port, Func<double> now)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Parse(address), port));
        var app = builder.Build();
        var backend = new MockBackend(app, now);
        app.MapPost("/get", (HttpContext context) =>
        {
            Interlocked.Increment(ref backend._requests);
            backend.Arrived(context);
            context.Response.ContentType = "application/octet-stream";
            return context.Response.Body.WriteAsync(new byte[96]).AsTask();
        });
        app.MapPost("/add", (HttpContext context) =>
        {
            Interlocked.Increment(ref backend._requests);
            backend.Arrived(context);
            var id = context.Request.Headers["x-request-id"].ToString();
            var key = context.Request.Headers["idempotency-key"].ToString();
            context.Response.ContentType = "application/octet-stream";
            if (key.Length > 0)
            {
                // As a real backend honours the key: the first request with it executes and its result is stored; a repeat
                // (a resend or hedge whose first copy got through) gets the stored result and executes nothing.
                var result = backend._results.GetOrAdd(key, _ => new Lazy<byte[]>(() =>
                {
                    backend._executions.AddOrUpdate(id, 1, (_, n) => n + 1);
                    return new byte[32];
                }));
                if (result.IsValueCreated)
                    Interlocked.Increment(ref backend._repeats);
                return context.Response.Body.WriteAsync(result.Value).AsTask();
            }

            backend._executions.AddOrUpdate(id, 1, (_, n) => n + 1);
            return context.Response.Body.WriteAsync(new byte[32]).AsTask();
        });
        await app.StartAsync();
        return backend;
    }

    private void Arrived(HttpContext context)
    {
        var now = _now();
        _arrivals.AddOrUpdate(context.Request.Headers["x-request-id"].ToString(), 1, (_, n) => n + 1);
        _firstArrival.TryAdd(context.Request.Headers["x-request-id"].ToString(), now);
    }

    /// <summary>Requests that reached the backend (every copy: hedges and resends included) of the calls whose request id starts with <paramref name="prefix"/>.</summary>
    public int Arrivals(string prefix) => _arrivals.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal)).Sum(e => e.Value);

    /// <summary>Executions beyond the first of the side effects whose request id starts with <paramref name="prefix"/>.</summary>
    public int Duplicates(string prefix) => _executions.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal)).Sum(e => e.Value - 1);

    /// <summary>Whether the side effect of request <paramref name="id"/> ran (a call whose answer was lost may still have).</summary>
    public bool Executed(string id) => _executions.ContainsKey(id);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
