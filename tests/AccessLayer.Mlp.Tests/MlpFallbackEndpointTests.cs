using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;

namespace AccessLayer.Mlp.Tests;

/// <summary>POST /mlp/v1/request on the wire (docs/protocol.md §15): statuses, ERROR frames, table-less HPACK.</summary>
public sealed class MlpFallbackEndpointTests
{
    private static byte[] RequestFrame(uint streamId, params HeaderField[] headers)
    {
        var block = new ArrayBufferWriter<byte>();
        new HpackEncoder(new HpackEncoderOptions { DynamicTableSizeLimit = 0, MaxDynamicTableSize = 0 }).Encode(headers, block);
        var frame = new ArrayBufferWriter<byte>();
        MlpFrameWriter.WriteRequest(frame, streamId, MlpFrameFlags.None, block.WrittenSpan, "ping"u8);
        return frame.WrittenSpan.ToArray();
    }

    private static async Task<HttpResponseMessage> PostAsync(MlpTestGateway gateway, byte[] body, string? token, string contentType = "application/x-mlp-frame")
    {
        using var http = new HttpClient();
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.HttpBase, "mlp/v1/request")) { Content = content };
        if (token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await http.SendAsync(request);
    }

    private static Error ParseError(byte[] frame)
    {
        Assert.True(MlpFrameReader.TryParseHeader(frame, MlpLimits.AbsoluteMaxFrameSize, out var type, out _, out var length, out var header));
        Assert.Equal(MlpFrameType.Error, type);
        return Error.Parser.ParseFrom(frame, header, length);
    }

    [Fact]
    public async Task A_valid_request_gets_a_RESPONSE_frame_with_the_echoed_stream_id_and_status()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        var answer = await PostAsync(gateway, RequestFrame(77, new(":service", "echo"), new(":operation", "x")), gateway.TokenFor("fb-dev"));

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("application/x-mlp-frame", answer.Content.Headers.ContentType?.MediaType);
        var bytes = await answer.Content.ReadAsByteArrayAsync();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Assert.True(MlpFrameReader.TryRead(ref reader, MlpLimits.DefaultMaxFrameSize, out var frame));
        var response = MlpResponseFrame.Parse(frame);
        Assert.Equal(77u, response.StreamId);
        Assert.Equal(200, response.Status);
        Assert.Equal("ping"u8.ToArray(), response.Body.ToArray());
    }

    [Fact]
    public async Task No_credentials_is_401_with_ERROR_AUTH_FAILED()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        var answer = await PostAsync(gateway, RequestFrame(1, new(":service", "echo"), new(":operation", "x")), token: null);

        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        Assert.Equal(MlpErrorCode.AuthFailed, ParseError(await answer.Content.ReadAsByteArrayAsync()).Code);
    }

    [Fact]
    public async Task A_body_that_is_not_one_frame_is_400_MALFORMED_FRAME()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        var frame = RequestFrame(1, new(":service", "echo"), new(":operation", "x"));
        var answer = await PostAsync(gateway, [.. frame, 0x50], gateway.TokenFor("fb-dev"));

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Equal(MlpErrorCode.MalformedFrame, ParseError(await answer.Content.ReadAsByteArrayAsync()).Code);
    }

    [Fact]
    public async Task A_header_block_that_uses_a_dynamic_table_is_400_HEADER_COMPRESSION_ERROR()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        // Index 62 names the first dynamic entry, which a table-less context cannot have.
        var frame = new ArrayBufferWriter<byte>();
        MlpFrameWriter.WriteRequest(frame, 3, MlpFrameFlags.None, new byte[] { 0xBE }, default);
        var answer = await PostAsync(gateway, frame.WrittenSpan.ToArray(), gateway.TokenFor("fb-dev"));

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        var error = ParseError(await answer.Content.ReadAsByteArrayAsync());
        Assert.Equal(MlpErrorCode.HeaderCompressionError, error.Code);
        Assert.Equal(3u, error.StreamId);
    }

    [Fact]
    public async Task An_oversized_body_is_413_and_a_wrong_content_type_415()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        var big = await PostAsync(gateway, new byte[MlpLimits.DefaultMaxFrameSize + 100], gateway.TokenFor("fb-dev"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);
        Assert.Equal(MlpErrorCode.FrameTooLarge, ParseError(await big.Content.ReadAsByteArrayAsync()).Code);

        var wrongType = await PostAsync(gateway, RequestFrame(1, new(":service", "echo"), new(":operation", "x")), gateway.TokenFor("fb-dev"), "application/json");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
    }

    [Fact]
    public async Task Dictionaries_are_served_over_HTTP_to_authenticated_clients()
    {
        using var folder = new TestDictionaries.Folder(40001);
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:DictionaryPath={folder.Path}"]);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway.HttpBase, "mlp/v1/dictionaries/40001"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", gateway.TokenFor("fb-dev"));

        var answer = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(TestDictionaries.Get(40001), await answer.Content.ReadAsByteArrayAsync());
        using var missing = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway.HttpBase, "mlp/v1/dictionaries/40009"));
        missing.Headers.Authorization = new AuthenticationHeaderValue("Bearer", gateway.TokenFor("fb-dev"));
        Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(missing)).StatusCode);
    }
}
