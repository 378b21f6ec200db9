using System.Buffers;
using System.Runtime.InteropServices;
using AccessLayer.Gateway.Mlp;
using AccessLayer.Gateway.Mlp.Routing;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Protocol.Hpack;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AccessLayer.Mlp.Tests;

/// <summary>The coalescer alone, on a fake clock, against an in-code service the test holds and releases.</summary>
public sealed class MlpCallCoalescerTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeTimeProvider _time = FakeClock.New();

    public void Dispose() => _services.Dispose();

    private MlpCallCoalescer Coalescer(int maxCalls = 100_000, long maxBytes = 16L * 1024 * 1024, Action<byte[]>? returnRented = null)
    {
        var options = Options.Create(new MlpOptions { CallCoalescingMaxCalls = maxCalls, CallCoalescingMaxBytes = maxBytes });
        var metrics = new MlpMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        return returnRented is null
            ? new MlpCallCoalescer(options, metrics, _time, NullLogger<MlpCallCoalescer>.Instance)
            : new MlpCallCoalescer(options, metrics, _time, NullLogger<MlpCallCoalescer>.Instance) { ReturnRented = returnRented };
    }

    private static MlpServiceRequest Call(string callId = "call-1", string device = "dev-1", string user = "user-1", string operation = "op") =>
        new("svc", operation, [new HeaderField(MlpCallCoalescer.HeaderName, callId)], ReadOnlyMemory<byte>.Empty, device, user, "s-1", true, TimeSpan.FromSeconds(30));

    private static MlpServiceResponse Ok(string body = "answer") =>
        new(200, [new HeaderField("x-answer", "yes")], System.Text.Encoding.UTF8.GetBytes(body));

    [Fact]
    public async Task Two_concurrent_copies_make_one_backend_call_and_both_get_the_same_status_headers_and_body()
    {
        var coalescer = Coalescer();
        var service = new HeldService();

        var first = coalescer.InvokeAsync(service, Call(), NullLogger.Instance, CancellationToken.None).AsTask();
        var second = coalescer.InvokeAsync(service, Call(), NullLogger.Instance, CancellationToken.None).AsTask();
        service.Release(Ok());
        var (a, b) = (await first, await second);

        Assert.Equal(1, service.Calls);
        Assert.Equal(200, a.Status);
        Assert.Equal(a.Status, b.Status);
        Assert.Equal(a.Headers, b.Headers);
        Assert.Equal("answer"u8.ToArray(), a.Body.ToArray());
        Assert.Equal(a.Body.ToArray(), b.Body.ToArray());
    }

    [Fact]
    public async Task When_the_first_copys_link_goes_the_backend_call_goes_on_and_the_second_copy_gets_its_answer()
    {
        var coalescer = Coalescer();
        var service = new HeldService();
        using var firstLink = new CancellationTokenSource();

        var first = coalescer.InvokeAsync(service, Call(), NullLogger.Instance, firstLink.Token).AsTask();
        var second = coalescer.InvokeAsync(service, Call(), NullLogger.Instance, CancellationToken.None).AsTask();
        await firstLink.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.False(service.LastToken.IsCancellationRequested);
        service.Release(Ok());

        Assert.Equal(200, (await second).Status);
        Assert.Equal(1, service.Calls);
    }

    [Fact]
    public async Task When_every_copy_has_gone_the_backend_call_is_cancelled()
    {
        var coalescer = Coalescer();
        var service = new HeldService();
        using var firstLink = new CancellationTokenSource();
        using var secondLink = new CancellationTokenSource();

        var first = coalescer.InvokeAsync(service, Call(), NullLogger.Instance, firstLink.Token).AsTask();
        var second = coalescer.InvokeAsync(service, Call(), NullLogger.Instance, secondLink.Token).AsTask();
        await firstLink.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.False(service.LastToken.IsCancellationRequested);
        await secondLink.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);

        Assert.True(service.LastToken.IsCancellationRequested);
        // A copy after that is a new call.
        var third = coalescer.InvokeAsync(service, Call(), NullLogger.Instance, CancellationToken.None).AsTask();
        service.Release(Ok());
        Assert.Equal(200, (await third).Status);
        Assert.Equal(2, service.Calls);
    }

    [Fact]
    public async Task A_copy_within_the_window_after_the_answer_is_answered_without_a_backend_call_and_one_after_it_is_invoked_again()
    {
        var coalescer = Coalescer();
        var service = new HeldService();
        service.Release(Ok("first"));
        Assert.Equal("first"u8.ToArray(), (await coalescer.InvokeAsync(service, Call(), NullLogger.Instance, CancellationToken.None)).Body.ToArray());

        _time.Advance(TimeSpan.FromSeconds(9));
        var kept = await coalescer.InvokeAsync(service, Call(), NullLogger.Instance, CancellationToken.None);
        Assert.Equal("first"u8.ToArray(), kept.Body.ToArray());
        Assert.Equal(1, service.Calls);

        _time.Advance(TimeSpan.FromSeconds(1));
        service.Release(Ok("second"));
        var again = await coalescer.InvokeAsync(service, Call(), NullLogger.Instance, CancellationToken.None);
        Assert.Equal("second"u8.ToArray(), again.Body.ToArray());
        Assert.Equal(2, service.Calls);
    }

    [Fact]
    public async Task A_5xx_answer_is_not_kept_so_a_later_copy_reaches_the_backend()
    {
        var coalescer = Coalescer();
        var service = new HeldService();
        service.Release(MlpServiceResponse.Empty(502, "bad gateway"));
        Assert.Equal(502, (await coalescer.InvokeAsync(service, Call(), NullLogger.Instance, CancellationToken.None)).Status);

        service.Release(Ok());
        Assert.Equal(200, (await coalescer.InvokeAsync(service, Call(), NullLogger.Instance, CancellationToken.None)).Status);
        Assert.Equal(2, service.Calls);
        Assert.Equal(1, coalescer.Count);
    }

    [Theory]
    [InlineData("dev-2", "user-1", "op")]
    [InlineData("dev-1", "user-2", "op")]
    [InlineData("dev-1", "user-1", "other-op")]
    public async Task Another_device_user_or_operation_with_the_same_call_id_is_not_joined(string device, string user, string operation)
    {
        var coalescer = Coalescer();
        var service = new HeldService();

        var first = coalescer.InvokeAsync(service, Call(), NullLogger.Instance, CancellationToken.None).AsTask();
        var other = coalescer.InvokeAsync(service, Call(device: device, user: user, operation: operation), NullLogger.Instance, CancellationToken.None).AsTask();
        service.Release(Ok());
        await Task.WhenAll(first, other);

        Assert.Equal(2, service.Calls);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("\u00e9t\u00e9")]
    public async Task A_call_id_outside_the_shape_is_ignored_and_each_copy_is_invoked(string callId)
    {
        var coalescer = Coalescer();
        var service = new HeldService();
        service.Release(Ok());

        await coalescer.InvokeAsync(service, Call(callId), NullLogger.Instance, CancellationToken.None);
        await coalescer.InvokeAsync(service, Call(callId), NullLogger.Instance, CancellationToken.None);

        Assert.Equal(2, service.Calls);
        Assert.Equal(0, coalescer.Count);
        Assert.False(MlpCallCoalescer.IsValidCallId(new string('a', 65)));
        Assert.True(MlpCallCoalescer.IsValidCallId(new string('~', 64)));
    }

    [Fact]
    public async Task Past_the_calls_bound_a_new_call_is_invoked_directly()
    {
        var coalescer = Coalescer(maxCalls: 1);
        var service = new HeldService();
        service.Release(Ok());
        await coalescer.InvokeAsync(service, Call("a"), NullLogger.Instance, CancellationToken.None);

        await coalescer.InvokeAsync(service, Call("b"), NullLogger.Instance, CancellationToken.None);
        await coalescer.InvokeAsync(service, Call("b"), NullLogger.Instance, CancellationToken.None);

        Assert.Equal(3, service.Calls);
        Assert.Equal(1, coalescer.Count);
    }

    [Fact]
    public async Task An_answer_past_the_bytes_bound_is_not_kept()
    {
        // "answer" (6) + 32 + "x-answer" (8) + "yes" (3) = 49 bytes: over a 40-byte bound.
        var coalescer = Coalescer(maxBytes: 40);
        var service = new HeldService();
        service.Release(Ok());

        await coalescer.InvokeAsync(service, Call(), NullLogger.Instance, CancellationToken.None);
        await coalescer.InvokeAsync(service, Call(), NullLogger.Instance, CancellationToken.None);

        Assert.Equal(2, service.Calls);
        Assert.Equal(0, coalescer.Count);
    }

    [Fact]
    public async Task A_pooled_body_is_returned_once_and_no_copy_gets_it_as_its_rented_body()
    {
        var returned = new List<byte[]>();
        var coalescer = Coalescer(returnRented: a => { lock (returned) returned.Add(a); });
        var service = new HeldService();
        var rented = ArrayPool<byte>.Shared.Rent(16);
        "pooled"u8.CopyTo(rented);

        var first = coalescer.InvokeAsync(service, Call(), NullLogger.Instance, CancellationToken.None).AsTask();
        var second = coalescer.InvokeAsync(service, Call(), NullLogger.Instance, CancellationToken.None).AsTask();
        service.Release(new MlpServiceResponse(200, [], rented.AsMemory(0, 6)) { RentedBody = rented });
        var answers = new[] { await first, await second, await coalescer.InvokeAsync(service, Call(), NullLogger.Instance, CancellationToken.None) };
        // The pool may hand the array to anyone now: what the copies hold must not change with it.
        rented.AsSpan().Fill(0xEE);

        Assert.Same(rented, Assert.Single(returned));
        Assert.All(answers, answer =>
        {
            Assert.Null(answer.RentedBody);
            Assert.Equal("pooled"u8.ToArray(), answer.Body.ToArray());
            Assert.False(MemoryMarshal.TryGetArray(answer.Body, out var segment) && ReferenceEquals(segment.Array, rented));
        });
        Assert.Equal(1, service.Calls);
    }

    [Fact]
    public async Task Expired_answers_are_swept_by_the_next_call_without_a_timer()
    {
        var coalescer = Coalescer();
        var service = new HeldService();
        service.Release(Ok());
        for (var i = 0; i < 5; i++)
            await coalescer.InvokeAsync(service, Call("c" + i), NullLogger.Instance, CancellationToken.None);
        Assert.Equal(5, coalescer.Count);

        _time.Advance(TimeSpan.FromSeconds(10));
        coalescer.Sweep();

        Assert.Equal(0, coalescer.Count);
    }

    /// <summary>Counts its calls; each waits for the answer the test releases (or its token).</summary>
    private sealed class HeldService : IMlpService
    {
        private TaskCompletionSource<MlpServiceResponse> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public CancellationToken LastToken { get; private set; }

        /// <summary>Answers the call out (and the calls to come) with <paramref name="response"/>.</summary>
        public void Release(MlpServiceResponse response)
        {
            if (!_answer.TrySetResult(response))
            {
                _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
                _answer.SetResult(response);
            }
        }

        public async ValueTask<MlpServiceResponse> InvokeAsync(MlpServiceRequest request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            LastToken = cancellationToken;
            return await _answer.Task.WaitAsync(cancellationToken);
        }
    }
}
