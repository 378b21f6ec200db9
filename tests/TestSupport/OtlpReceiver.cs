using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AccessLayer.Tests.Shared;

/// <summary>One span as an OTLP export carried it; ids in lower-case hex.</summary>
public sealed record OtlpSpan(string Name, string TraceId, string SpanId, string ParentSpanId, IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// A real OTLP/HTTP receiver on a free loopback port (Kestrel): accepts <c>POST /v1/metrics</c> and
/// <c>POST /v1/traces</c> with protobuf bodies, as a collector does, and decodes what the tests look at
/// (metric names; span names, ids and string attributes) with a small protobuf reader of its own.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<string> _metricNames = new();
    private readonly ConcurrentQueue<OtlpSpan> _spans = new();

    private OtlpReceiver(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    private int _metricRequests;
    private int _traceRequests;

    public int MetricRequests => Volatile.Read(ref _metricRequests);

    public int TraceRequests => Volatile.Read(ref _traceRequests);

    public IReadOnlyCollection<string> MetricNames => _metricNames;

    public IReadOnlyCollection<OtlpSpan> Spans => _spans;

    public static async Task<OtlpReceiver> StartAsync()
    {
        var port = FreePorts.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port));
        var app = builder.Build();
        OtlpReceiver? receiver = null;
        app.MapPost("/v1/metrics", async (HttpContext context) =>
        {
            var body = await ReadProtobufAsync(context);
            if (body is null)
                return Results.StatusCode(415);
            Interlocked.Increment(ref receiver!._metricRequests);
            foreach (var name in MetricNamesOf(body))
                receiver._metricNames.Enqueue(name);
            return Results.Ok();
        });
        app.MapPost("/v1/traces", async (HttpContext context) =>
        {
            var body = await ReadProtobufAsync(context);
            if (body is null)
                return Results.StatusCode(415);
            Interlocked.Increment(ref receiver!._traceRequests);
            foreach (var span in SpansOf(body))
                receiver._spans.Enqueue(span);
            return Results.Ok();
        });
        await app.StartAsync();
        receiver = new OtlpReceiver(app, port);
        return receiver;
    }

    private static async Task<byte[]?> ReadProtobufAsync(HttpContext context)
    {
        if (context.Request.ContentType != "application/x-protobuf")
            return null;
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        return body.ToArray();
    }

    // ExportMetricsServiceRequest: 1 resource_metrics { 2 scope_metrics { 2 metrics { 1 name } } }.
    private static IEnumerable<string> MetricNamesOf(byte[] request) =>
        from resource in Fields(request, 1)
        from scope in Fields(resource, 2)
        from metric in Fields(scope, 2)
        from name in Fields(metric, 1)
        select Encoding.UTF8.GetString(name);

    // ExportTraceServiceRequest: 1 resource_spans { 2 scope_spans { 2 spans { 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 9 attributes } } }.
    private static IEnumerable<OtlpSpan> SpansOf(byte[] request)
    {
        foreach (var resource in Fields(request, 1))
        foreach (var scope in Fields(resource, 2))
        foreach (var span in Fields(scope, 2))
        {
            var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var keyValue in Fields(span, 9))
            {
                // KeyValue: 1 key, 2 value (AnyValue: 1 string_value, 2 bool_value, 3 int_value).
                var key = Fields(keyValue, 1).Select(k => Encoding.UTF8.GetString(k)).FirstOrDefault();
                var anyValue = Fields(keyValue, 2).FirstOrDefault() ?? [];
                var value = Fields(anyValue, 1).Select(s => Encoding.UTF8.GetString(s)).FirstOrDefault()
                    ?? Varints(anyValue, 3).Select(i => ((long)i).ToString(System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault()
                    ?? Varints(anyValue, 2).Select(b => b != 0 ? "true" : "false").FirstOrDefault();
                if (key is not null && value is not null)
                    attributes[key] = value;
            }

            yield return new OtlpSpan(
                Fields(span, 5).Select(n => Encoding.UTF8.GetString(n)).FirstOrDefault() ?? string.Empty,
                Hex(Fields(span, 1).FirstOrDefault()),
                Hex(Fields(span, 2).FirstOrDefault()),
                Hex(Fields(span, 4).FirstOrDefault()),
                attributes);
        }
    }

    private static string Hex(byte[]? bytes) => bytes is null ? string.Empty : Convert.ToHexStringLower(bytes);

    /// <summary>The varint fields numbered <paramref name="number"/> of one protobuf message.</summary>
    private static List<ulong> Varints(byte[] message, int number)
    {
        var found = new List<ulong>();
        var position = 0;
        while (position < message.Length)
        {
            var tag = ReadVarint(message, ref position);
            switch ((int)(tag & 7))
            {
                case 0:
                    var value = ReadVarint(message, ref position);
                    if ((int)(tag >> 3) == number)
                        found.Add(value);
                    break;
                case 1:
                    position += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(message, ref position);
                    position += length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException("Not protobuf.");
            }
        }

        return found;
    }

    /// <summary>The length-delimited fields numbered <paramref name="number"/> of one protobuf message; other fields are skipped by wire type.</summary>
    private static List<byte[]> Fields(byte[] message, int number)
    {
        var found = new List<byte[]>();
        var position = 0;
        while (position < message.Length)
        {
            var tag = ReadVarint(message, ref position);
            var wireType = (int)(tag & 7);
            switch (wireType)
            {
                case 0:
                    ReadVarint(message, ref position);
                    break;
                case 1:
                    position += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(message, ref position);
                    if ((int)(tag >> 3) == number)
                        found.Add(message[position..(position + length)]);
                    position += length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"Wire type {wireType} is not protobuf.");
            }
        }

        return found;
    }

    private static ulong ReadVarint(byte[] message, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = message[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
                return value;
        }
    }

    /// <summary>Waits (real time, bounded) until a span matching <paramref name="match"/> has arrived.</summary>
    public async Task<OtlpSpan> WaitForSpanAsync(Func<OtlpSpan, bool> match, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var span = _spans.FirstOrDefault(match);
            if (span is not null)
                return span;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"No matching span within {within}; received: {string.Join(", ", _spans.Select(s => s.Name + " " + s.TraceId))}.");
            await Task.Delay(50);
        }
    }

    /// <summary>Waits (real time, bounded) until an export carried the metric <paramref name="name"/>.</summary>
    public async Task WaitForMetricAsync(string name, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!_metricNames.Contains(name))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"No export of {name} within {within}; {MetricRequests} metric exports carried {string.Join(", ", _metricNames.Distinct())}.");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
