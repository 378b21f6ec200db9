using System.Buffers;
using System.Net.Http.Headers;
using AccessLayer.Gateway.Mlp.Routing;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;
using Microsoft.Extensions.DependencyInjection;

namespace AccessLayer.Mlp.Tests;

/// <summary>
/// Copies of one call (<c>mlp-call-id</c>, docs/protocol.md §6.1) through a real gateway: on the session's link, a secondary
/// link and the HTTP fallback, against an in-code service that counts its calls and answers when the test lets it.
/// </summary>
public sealed class MlpCallCoalescingTests
{
    private static HeaderField[] Headers(string callId) =>
        [new(":service", "counted"), new(":operation", "op"), new(MlpCallCoalescer.HeaderName, callId)];

    private static Task<MlpTestGateway> StartAsync(CountingService service, params string[] settings) =>
        MlpTestGateway.StartAsync(settings, s => s.AddSingleton(new MlpServiceRegistration("counted", service)));

    private static async Task<(RawMlpConnection Link, Welcome Welcome)> OpenAsync(MlpTestGateway gateway, string deviceId, Welcome? secondaryOf = null)
    {
        var link = await gateway.OpenRawAsync();
        var welcome = secondaryOf is null
            ? await link.HandshakeAsync(deviceId, gateway.TokenFor(deviceId))
            : await link.SecondaryHandshakeAsync(deviceId, secondaryOf);
        return (link, welcome);
    }

    private static async Task<(int Status, byte[] Body)> ResponseAsync(RawMlpConnection link)
    {
        var frame = await link.ReceiveAsync();
        Assert.Equal(MlpFrameType.Response, frame.Type);
        var response = MlpResponseFrame.Parse(new MlpFrame(MlpFrameType.Response, frame.Flags, new ReadOnlySequence<byte>(frame.Payload)));
        return (response.Status, response.Body.ToArray());
    }

    private static async Task<(int Status, byte[] Body)> FallbackAsync(MlpTestGateway gateway, string deviceId, string callId)
    {
        var block = new ArrayBufferWriter<byte>();
        new HpackEncoder(new HpackEncoderOptions { DynamicTableSizeLimit = 0, MaxDynamicTableSize = 0 }).Encode(Headers(callId), block);
        var frame = new ArrayBufferWriter<byte>();
        MlpFrameWriter.WriteRequest(frame, 9, MlpFrameFlags.Idempotent, block.WrittenSpan, "req"u8);
        using var http = new HttpClient();
        var content = new ByteArrayContent(frame.WrittenSpan.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-mlp-frame");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.HttpBase, "mlp/v1/request")) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", gateway.TokenFor(deviceId));
        using var answer = await http.SendAsync(request);
        var bytes = await answer.Content.ReadAsByteArrayAsync();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Assert.True(MlpFrameReader.TryRead(ref reader, MlpLimits.DefaultMaxFrameSize, out var parsed));
        var response = MlpResponseFrame.Parse(parsed);
        return (response.Status, response.Body.ToArray());
    }

    [Fact]
    public async Task Copies_on_the_link_a_secondary_link_and_the_fallback_reach_the_backend_once_even_after_the_first_link_closes()
    {
        var service = new CountingService();
        await using var gateway = await StartAsync(service);
        using var coalesced = new CoalescedCopies(gateway);
        var (primary, welcome) = await OpenAsync(gateway, "co-dev");
        var (secondary, _) = await OpenAsync(gateway, "co-dev", secondaryOf: welcome);
        await using var secondaryLink = secondary;

        await using (primary)
        {
            await primary.SendRequestAsync(1, Headers("call-1"), "req"u8.ToArray(), MlpFrameFlags.Idempotent);
            await service.WaitForCallsAsync(1);
            // The hedge on the secondary link joins the call in flight; then the first link dies (the lossy case).
            await secondary.SendRequestAsync(1, Headers("call-1"), "req"u8.ToArray(), MlpFrameFlags.Idempotent);
            await coalesced.WaitForAsync(1);
        }

        var metrics = gateway.Services.GetRequiredService<AccessLayer.Gateway.Mlp.MlpMetrics>();
        await Eventually.TrueAsync(() => metrics.Connections == 1, "the gateway should see the first link closed");
        Assert.False(service.LastToken.IsCancellationRequested);
        service.Release();

        var onSecondary = await ResponseAsync(secondary);
        var overFallback = await FallbackAsync(gateway, "co-dev", "call-1");

        Assert.Equal(1, service.Calls);
        Assert.Equal(200, onSecondary.Status);
        Assert.Equal("answer-1"u8.ToArray(), onSecondary.Body);
        Assert.Equal(onSecondary.Status, overFallback.Status);
        Assert.Equal(onSecondary.Body, overFallback.Body);
    }

    [Fact]
    public async Task Two_links_of_the_same_device_share_one_backend_call_and_WELCOME_carries_the_window()
    {
        var service = new CountingService();
        await using var gateway = await StartAsync(service);
        using var coalesced = new CoalescedCopies(gateway);
        var (first, welcome) = await OpenAsync(gateway, "co-two");
        await using var firstLink = first;
        var (second, secondWelcome) = await OpenAsync(gateway, "co-two", secondaryOf: welcome);
        await using var secondLink = second;

        await first.SendRequestAsync(1, Headers("call-2"), "req"u8.ToArray());
        await service.WaitForCallsAsync(1);
        await second.SendRequestAsync(1, Headers("call-2"), "req"u8.ToArray());
        await coalesced.WaitForAsync(1);
        service.Release();

        Assert.Equal(200, (await ResponseAsync(first)).Status);
        Assert.Equal(200, (await ResponseAsync(second)).Status);
        Assert.Equal(1, service.Calls);
        Assert.Equal(10_000u, welcome.CallCoalescingWindowMs);
        Assert.Equal(10_000u, secondWelcome.CallCoalescingWindowMs);
    }

    [Fact]
    public async Task With_a_window_of_0_WELCOME_says_0_and_every_copy_reaches_the_backend()
    {
        var service = new CountingService();
        service.Release();
        await using var gateway = await StartAsync(service, "--Mlp:CallCoalescingWindow=00:00:00");
        var (link, welcome) = await OpenAsync(gateway, "co-off");
        await using var _ = link;

        await link.SendRequestAsync(1, Headers("call-3"), "req"u8.ToArray());
        Assert.Equal(200, (await ResponseAsync(link)).Status);
        await link.SendRequestAsync(3, Headers("call-3"), "req"u8.ToArray());
        Assert.Equal(200, (await ResponseAsync(link)).Status);

        Assert.Equal(0u, welcome.CallCoalescingWindowMs);
        Assert.Equal(2, service.Calls);
    }

    [Fact]
    public async Task A_second_one_way_copy_is_dropped_as_already_done()
    {
        var service = new CountingService();
        service.Release();
        await using var gateway = await StartAsync(service);
        using var coalesced = new CoalescedCopies(gateway);
        var (link, _) = await OpenAsync(gateway, "co-oneway");
        await using var __ = link;

        await link.SendRequestAsync(1, Headers("call-4"), "req"u8.ToArray(), MlpFrameFlags.OneWay);
        await service.WaitForCallsAsync(1);
        await link.SendRequestAsync(3, Headers("call-4"), "req"u8.ToArray(), MlpFrameFlags.OneWay);
        await coalesced.WaitForAsync(1);
        // A request after both: its answer is the next frame (no ERROR for either one-way copy came before it).
        await link.SendRequestAsync(5, Headers("call-5"), "req"u8.ToArray());

        Assert.Equal(200, (await ResponseAsync(link)).Status);
        Assert.Equal(2, service.Calls);
    }

    /// <summary>Counts its calls and answers <c>answer-N</c> (N its count) once released.</summary>
    private sealed class CountingService : IMlpService
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public CancellationToken LastToken { get; private set; }

        public void Release() => _released.TrySetResult();

        public Task WaitForCallsAsync(int count) => Eventually.TrueAsync(() => Calls >= count, () => $"the service should have {count} calls, has {Calls}");

        public async ValueTask<MlpServiceResponse> InvokeAsync(MlpServiceRequest request, CancellationToken cancellationToken)
        {
            var count = Interlocked.Increment(ref _calls);
            LastToken = cancellationToken;
            await _released.Task.WaitAsync(cancellationToken);
            return new MlpServiceResponse(200, [], System.Text.Encoding.UTF8.GetBytes("answer-" + count));
        }
    }
}
