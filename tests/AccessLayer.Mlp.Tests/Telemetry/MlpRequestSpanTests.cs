using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using AccessLayer.Client;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Mlp.Tests.Telemetry;

/// <summary>A span per MLP request, exported by OTLP to a real receiver, whose context reaches the HTTP backend.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class MlpRequestSpanTests
{
    private static readonly TimeSpan ExportWait = TimeSpan.FromSeconds(30);

    private static string[] Traced(OtlpReceiver receiver, string backendUrl) =>
    [
        $"--Mlp:Routes:orders:Url={backendUrl}",
        $"--Otlp:Endpoint={receiver.Endpoint}", "--Otlp:Protocol=http/protobuf", "--Otlp:TraceSampleRatio=1",
    ];

    [Fact]
    public async Task An_MLP_call_is_a_span_exported_by_OTLP_and_the_backend_gets_its_traceparent()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await MlpTestGateway.StartAsync(Traced(receiver, backend.Url));
        await using var client = new MlpClient(gateway.ClientOptions("dev-traced"));
        await client.ConnectAsync();

        var response = await client.CallAsync("orders", "headers", ReadOnlyMemory<byte>.Empty);

        Assert.Equal(200, response.Status);
        var traceparent = response.Header("seen-traceparent");
        Assert.NotNull(traceparent);
        var (traceId, parentId) = Parse(traceparent);
        var span = await receiver.WaitForSpanAsync(s => s.Name == "mlp.request" && s.TraceId == traceId, ExportWait);
        // The backend's parent is HttpClient's span of the call, a child of the gateway's span: it was current across the call.
        await AssertBackendCallUnderAsync(receiver, span, parentId);
        Assert.Equal("orders", span.Attributes["mlp.service"]);
        Assert.Equal("headers", span.Attributes["mlp.operation"]);
        Assert.Equal("200", span.Attributes["mlp.status"]);
        Assert.Equal("link", span.Attributes["mlp.transport"]);
        Assert.Equal("dev-traced", span.Attributes["mlp.device_id"]);
    }

    [Fact]
    public async Task A_traceparent_the_client_sends_is_the_parent_of_the_span_and_the_trace_goes_on_to_the_backend()
    {
        const string clientTrace = "0af7651916cd43dd8448eb211c80319c";
        const string clientSpan = "b7ad6b7169203331";
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await MlpTestGateway.StartAsync(Traced(receiver, backend.Url));
        await using var client = new MlpClient(gateway.ClientOptions("dev-parented"));
        await client.ConnectAsync();

        var response = await client.CallAsync("orders", "headers", ReadOnlyMemory<byte>.Empty, new MlpCallOptions
        {
            Headers = [new HeaderField("traceparent", $"00-{clientTrace}-{clientSpan}-01")],
        });

        var (traceId, parentId) = Parse(response.Header("seen-traceparent")!);
        Assert.Equal(clientTrace, traceId);
        var span = await receiver.WaitForSpanAsync(s => s.Name == "mlp.request" && s.TraceId == clientTrace, ExportWait);
        Assert.Equal(clientSpan, span.ParentSpanId);
        await AssertBackendCallUnderAsync(receiver, span, parentId);
    }

    [Fact]
    public async Task A_call_over_the_HTTP_fallback_is_a_span_too()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await MlpTestGateway.StartAsync(Traced(receiver, backend.Url));
        var block = new ArrayBufferWriter<byte>();
        new HpackEncoder(new HpackEncoderOptions { DynamicTableSizeLimit = 0, MaxDynamicTableSize = 0 }).Encode([new(":service", "orders"), new(":operation", "headers")], block);
        var frame = new ArrayBufferWriter<byte>();
        MlpFrameWriter.WriteRequest(frame, 1, MlpFrameFlags.None, block.WrittenSpan, ReadOnlySpan<byte>.Empty);
        using var http = new HttpClient();
        var content = new ByteArrayContent(frame.WrittenSpan.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-mlp-frame");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.HttpBase, "mlp/v1/request")) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", gateway.TokenFor("dev-fallback"));

        using var answer = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var (traceId, parentId) = Parse(backend.LastTraceParent!);
        var span = await receiver.WaitForSpanAsync(s => s.Name == "mlp.request" && s.TraceId == traceId, ExportWait);
        await AssertBackendCallUnderAsync(receiver, span, parentId);
        Assert.Equal("http", span.Attributes["mlp.transport"]);
        Assert.Equal("dev-fallback", span.Attributes["mlp.device_id"]);
    }

    /// <summary>The span the backend named as its parent was exported, in the same trace, under the request's span.</summary>
    private static async Task AssertBackendCallUnderAsync(OtlpReceiver receiver, OtlpSpan request, string backendParentId)
    {
        var call = await receiver.WaitForSpanAsync(s => s.SpanId == backendParentId, ExportWait);
        Assert.Equal(request.TraceId, call.TraceId);
        Assert.Equal(request.SpanId, call.ParentSpanId);
    }

    private static (string TraceId, string ParentId) Parse(string traceparent)
    {
        var parts = traceparent.Split('-');
        Assert.Equal(4, parts.Length);
        return (parts[1], parts[2]);
    }
}
