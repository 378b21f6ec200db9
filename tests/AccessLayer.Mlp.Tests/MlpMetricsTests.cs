using System.Buffers;
using System.Net.Http.Headers;
using AccessLayer.Client;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Mlp.Tests;

/// <summary>Label values on /metrics come from configuration, never from what a client typed.</summary>
public sealed class MlpMetricsTests
{
    [Fact]
    public async Task Requests_for_unknown_services_are_counted_under_other_over_the_link_and_the_fallback()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var client = new MlpClient(gateway.ClientOptions("dev-metrics"));
        await client.ConnectAsync();

        // Every distinct made-up name would otherwise be a new time series, kept for the life of the process.
        for (var i = 0; i < 3; i++)
            Assert.Equal(404, (await client.CallAsync("made-up-" + i, "op", "x"u8.ToArray())).Status);
        Assert.Equal(200, (await client.CallAsync("echo", "op", "x"u8.ToArray())).Status);
        Assert.Equal(404, (int)(await FallbackAsync(gateway, "made-up-fallback")).StatusCode);

        using var http = new HttpClient { BaseAddress = gateway.ManagementBase };
        var metrics = await http.GetStringAsync("metrics");
        Assert.DoesNotContain("made-up", metrics, StringComparison.Ordinal);
        Assert.Matches("accesslayer_mlp_requests_total\\{[^}]*service=\"other\"[^}]*status=\"4xx\"[^}]*\\} 3", metrics);
        Assert.Matches("accesslayer_mlp_requests_total\\{[^}]*service=\"other\"[^}]*status=\"4xx\"[^}]*transport=\"http\"[^}]*\\} 1", metrics);
        Assert.Matches("accesslayer_mlp_requests_total\\{[^}]*service=\"echo\"", metrics);
    }

    private static async Task<HttpResponseMessage> FallbackAsync(MlpTestGateway gateway, string service)
    {
        var block = new ArrayBufferWriter<byte>();
        new HpackEncoder(new HpackEncoderOptions { DynamicTableSizeLimit = 0, MaxDynamicTableSize = 0 }).Encode([new(":service", service), new(":operation", "op")], block);
        var frame = new ArrayBufferWriter<byte>();
        MlpFrameWriter.WriteRequest(frame, 1, MlpFrameFlags.None, block.WrittenSpan, "x"u8);
        using var http = new HttpClient();
        var content = new ByteArrayContent(frame.WrittenSpan.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-mlp-frame");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.HttpBase, "mlp/v1/request")) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", gateway.TokenFor("dev-metrics"));
        return await http.SendAsync(request);
    }
}
