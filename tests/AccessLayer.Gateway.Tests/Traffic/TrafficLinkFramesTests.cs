using System.Buffers;
using System.Text;
using AccessLayer.Gateway.Mlp.Routing;
using AccessLayer.Gateway.Traffic;
using AccessLayer.Protocol.Hpack;

namespace AccessLayer.Gateway.Tests.Traffic;

/// <summary>
/// The frames of a site link (<see cref="TrafficLinkFrames"/>) as the two gateways read them call after call: the short
/// strings a link carries on every call are one shared instance per link (<see cref="TrafficLinkStrings"/>), the
/// identity and cookies are not, and a header added on either side travels or lands without a list made for it.
/// </summary>
public sealed class TrafficLinkFramesTests
{
    private static readonly byte[] Signature = new byte[32];

    [Fact]
    public void Answers_read_on_one_link_share_their_header_strings_but_not_cookies_and_end_with_the_forwarding_mark()
    {
        var strings = new TrafficLinkStrings();
        var mark = new HeaderField(TrafficHeaders.ForwardedBy, "sh");
        var sent = new MlpServiceResponse(200, [new("mlp-zone", "bj-a"), new("mlp-site", "bj"), new(TrafficHeaders.ZoneCookie, "1.bj-a.AAAAAAAAAAAAAAAAAAAAAA")], Encoding.UTF8.GetBytes("body"));

        var first = ReadAnswer(sent, strings, mark);
        var second = ReadAnswer(sent, strings, mark);

        Assert.Equal(sent.Headers.Append(mark).ToArray(), first.Headers.ToArray());
        Assert.Equal("body", Encoding.UTF8.GetString(first.Body.Span));
        for (var i = 0; i < 2; i++)
        {
            // Equal text read twice: the same string, not a second copy per call.
            Assert.Same(first.Headers[i].Name, second.Headers[i].Name);
            Assert.Same(first.Headers[i].Value, second.Headers[i].Value);
        }

        // A cookie is one user's: read as it is, never kept by the link.
        Assert.Equal(first.Headers[2].Value, second.Headers[2].Value);
        Assert.NotSame(first.Headers[2].Value, second.Headers[2].Value);
        Assert.Same(mark.Value, second.Headers[^1].Value);
    }

    [Fact]
    public void A_call_carries_the_long_links_cookie_after_the_clients_headers_and_shares_hop_service_and_operation()
    {
        var strings = new TrafficLinkStrings();
        var forward = new TrafficForward(1_700_000_000, "sh", "orders", "create", "dev-1", "u-1", "s-1", Idempotent: true, "ios", "5.3.0");
        var cookie = new HeaderField(TrafficHeaders.ZoneCookie, "1.bj-a.AAAAAAAAAAAAAAAAAAAAAA");
        HeaderField[] headers = [new("trace", "abc")];

        var first = ReadCall(forward, headers, cookie, strings);
        var second = ReadCall(forward, headers, cookie, strings);

        Assert.Equal(forward, first.Forward);
        Assert.Equal(new[] { headers[0], cookie }, first.Headers);
        Assert.Equal("payload", Encoding.UTF8.GetString(first.Body));
        Assert.Same(first.Forward.Hop, second.Forward.Hop);
        Assert.Same(first.Forward.Service, second.Forward.Service);
        Assert.Same(first.Forward.Operation, second.Forward.Operation);
        Assert.Same(first.Forward.AppVersion, second.Forward.AppVersion);
        // The identity differs from user to user: never kept by the link.
        Assert.NotSame(first.Forward.UserId, second.Forward.UserId);
        Assert.NotSame(first.Headers[1].Value, second.Headers[1].Value);
        Assert.Equal(new[] { headers[0] }, ReadCall(forward, headers, null, strings).Headers);
    }

    [Fact]
    public void A_links_strings_are_bounded_and_start_over_when_full()
    {
        var strings = new TrafficLinkStrings();
        var mark = new HeaderField(TrafficHeaders.ForwardedBy, "sh");
        // A backend header whose value changes on every call (a date, a request id) must not grow the set without end.
        for (var i = 0; i < TrafficLinkStrings.MaxEntries * 3; i++)
        {
            ReadAnswer(new MlpServiceResponse(200, [new("x-request-id", "r-" + i)], ReadOnlyMemory<byte>.Empty), strings, mark);
            Assert.InRange(strings.Count, 1, TrafficLinkStrings.MaxEntries);
        }

        // Past MaxChars a value is read as it is and not kept.
        var longValue = new string('v', TrafficLinkStrings.MaxChars + 1);
        var a = ReadAnswer(new MlpServiceResponse(200, [new("x-long", longValue)], ReadOnlyMemory<byte>.Empty), strings, mark);
        var b = ReadAnswer(new MlpServiceResponse(200, [new("x-long", longValue)], ReadOnlyMemory<byte>.Empty), strings, mark);
        Assert.Equal(longValue, a.Headers[0].Value);
        Assert.NotSame(a.Headers[0].Value, b.Headers[0].Value);
    }

    [Fact]
    public void A_malformed_string_in_an_answer_is_refused_as_a_malformed_frame()
    {
        var strings = new TrafficLinkStrings();
        var frame = TrafficLinkFrames.EncodeAnswer(7, new MlpServiceResponse(200, [new("x-a", "ok")], ReadOnlyMemory<byte>.Empty), out var length);
        var bytes = frame.AsSpan(0, length).ToArray();
        ArrayPool<byte>.Shared.Return(frame);
        // The value "ok" made invalid UTF-8 (a lone continuation byte), as a broken or hostile peer might send.
        bytes[Array.LastIndexOf(bytes, (byte)'o')] = 0x80;

        var sequence = new ReadOnlySequence<byte>(bytes);
        Assert.True(TrafficLinkFrames.TryReadFrame(ref sequence, 1 << 20, out var body));
        var error = Assert.Throws<TrafficLinkException>(() => TrafficLinkFrames.ReadAnswer(body, strings, null));
        Assert.StartsWith("A malformed link frame", error.Message, StringComparison.Ordinal);
    }

    private static MlpServiceResponse ReadAnswer(MlpServiceResponse response, TrafficLinkStrings strings, HeaderField? extra)
    {
        var frame = TrafficLinkFrames.EncodeAnswer(7, response, out var length);
        try
        {
            var sequence = new ReadOnlySequence<byte>(frame, 0, length);
            Assert.True(TrafficLinkFrames.TryReadFrame(ref sequence, 1 << 20, out var body));
            var (id, read) = TrafficLinkFrames.ReadAnswer(body, strings, extra);
            Assert.Equal(7u, id);
            return read;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private static LinkCall ReadCall(TrafficForward forward, HeaderField[] headers, HeaderField? extra, TrafficLinkStrings strings)
    {
        var frame = TrafficLinkFrames.EncodeCall(9, forward, 1000, Signature, headers, extra, "payload"u8, out var length);
        try
        {
            var sequence = new ReadOnlySequence<byte>(frame, 0, length);
            Assert.True(TrafficLinkFrames.TryReadFrame(ref sequence, 1 << 20, out var body));
            var call = TrafficLinkFrames.ReadCall(body, strings);
            Assert.Equal((9u, 1000), (call.Id, call.TimeoutMs));
            return call;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }
}
