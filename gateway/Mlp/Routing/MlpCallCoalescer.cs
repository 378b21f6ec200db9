using System.Buffers;
using AccessLayer.Protocol.Hpack;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Mlp.Routing;

/// <summary>
/// Answers the copies of one call (the same <c>mlp-call-id</c> from the same device and user, for the same service and
/// operation: docs/protocol.md §6.1) with one backend call. A copy that arrives while the call runs joins it; a copy that
/// arrives within <see cref="MlpOptions.CallCoalescingWindow"/> after a status &lt; 500 answer gets that answer at once.
/// The backend call runs under the request's own deadline, not under the link of the copy that started it, and is
/// cancelled only when every copy waiting for it is gone. A request without the header takes <see cref="MlpRequestExecutor"/>
/// as before (its pooled body untouched); a coalesced answer is an exact unpooled copy (no <see cref="MlpServiceResponse.RentedBody"/>),
/// since every copy's writer gets the same one.
/// </summary>
internal sealed class MlpCallCoalescer
{
    /// <summary>The request header that names one logical call; the same value on every copy.</summary>
    public const string HeaderName = "mlp-call-id";

    public const int MaxCallIdLength = 64;

    // What a kept answer's headers cost: as the push store counts them (32 + name + value per field).
    private const int HeaderFieldOverhead = 32;

    private static readonly TimeSpan BoundLogInterval = TimeSpan.FromMinutes(1);

    private readonly Dictionary<CallKey, Entry> _entries = [];
    // Kept answers in expiry order: the window is the same for all, so completion order is expiry order.
    private readonly Queue<Entry> _kept = new();
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly MlpMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeSpan _window;
    private readonly int _maxCalls;
    private readonly long _maxBytes;
    private long _keptBytes;
    private long _lastBoundLog = long.MinValue;

    public MlpCallCoalescer(IOptions<MlpOptions> options, MlpMetrics metrics, TimeProvider time, ILogger<MlpCallCoalescer> logger)
    {
        var current = options.Value;
        _window = current.CallCoalescingWindow;
        _maxCalls = current.CallCoalescingMaxCalls;
        _maxBytes = current.CallCoalescingMaxBytes;
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    /// <summary>Where a service's pooled body goes once copied (the shared pool; a test's own to count returns).</summary>
    internal Action<byte[]> ReturnRented { get; init; } = static rented => ArrayPool<byte>.Shared.Return(rented);

    /// <summary>False when <c>Mlp:CallCoalescingWindow</c> is 0: no header is looked at.</summary>
    public bool IsEnabled => _window > TimeSpan.Zero;

    /// <summary>The window announced in WELCOME (<c>call_coalescing_window_ms</c>), 0 when off.</summary>
    public uint WindowMilliseconds => (uint)Math.Min(_window.TotalMilliseconds, uint.MaxValue);

    /// <summary>Calls running or answers kept now (for tests and the dashboard's curiosity).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
                return _entries.Count;
        }
    }

    /// <summary>
    /// Runs <paramref name="request"/> (or joins the running call or kept answer of a copy of it); <paramref name="waiterGone"/>
    /// is this copy's own cancellation (its link closing, its HTTP request aborted): it ends this copy's wait, and the backend
    /// call only when it was the last copy waiting.
    /// </summary>
    public ValueTask<MlpServiceResponse> InvokeAsync(IMlpService service, MlpServiceRequest request, ILogger logger, CancellationToken waiterGone)
    {
        if (!IsEnabled || FindCallId(request.Headers) is not { } callId)
            return MlpRequestExecutor.InvokeAsync(service, request, _time, logger, waiterGone);

        var key = new CallKey(request.DeviceId, request.UserId, request.Service, request.Operation, callId);
        Entry? joined = null;
        Entry? started = null;
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            SweepLocked(now);
            if (_entries.TryGetValue(key, out var found))
            {
                if (found.Answer is { } kept)
                {
                    _metrics.CallCopiesCoalesced.Add(1, MlpMetrics.Tag("from", "kept"));
                    return ValueTask.FromResult(kept);
                }

                found.Waiters++;
                joined = found;
                _metrics.CallCopiesCoalesced.Add(1, MlpMetrics.Tag("from", "running"));
            }
            else if (_entries.Count >= _maxCalls || _keptBytes >= _maxBytes)
            {
                BoundHitLocked(_entries.Count >= _maxCalls ? "calls" : "bytes", now);
            }
            else
            {
                started = new Entry(key) { Waiters = 1 };
                _entries.Add(key, started);
            }
        }

        // Outside the lock: a service runs synchronously up to its first await, a waiter already cancelled leaves at once.
        if (joined is not null)
            return WaitAsync(joined, waiterGone);
        if (started is null)
            return MlpRequestExecutor.InvokeAsync(service, request, _time, logger, waiterGone);
        _ = RunAsync(started, service, request, logger); // never throws
        return WaitAsync(started, waiterGone);
    }

    /// <summary>Drops expired answers; called by every coalesced call and by the maintenance pass.</summary>
    public void Sweep()
    {
        lock (_lock)
            SweepLocked(_time.GetTimestamp());
    }

    /// <summary>The call id of a request, or null when it has none or one outside the shape (1–64 visible ASCII): ignored.</summary>
    internal static string? FindCallId(IReadOnlyList<HeaderField> headers)
    {
        for (var i = 0; i < headers.Count; i++)
        {
            var field = headers[i];
            if (string.Equals(field.Name, HeaderName, StringComparison.Ordinal))
                return IsValidCallId(field.Value) ? field.Value : null;
        }

        return null;
    }

    internal static bool IsValidCallId(string value)
    {
        if (value.Length is 0 or > MaxCallIdLength)
            return false;
        foreach (var c in value)
        {
            if (c is < (char)0x21 or > (char)0x7E)
                return false;
        }

        return true;
    }

    private async ValueTask<MlpServiceResponse> WaitAsync(Entry entry, CancellationToken waiterGone)
    {
        try
        {
            return await entry.Completion.Task.WaitAsync(waiterGone).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (waiterGone.IsCancellationRequested)
        {
            Leave(entry);
            throw;
        }
    }

    private void Leave(Entry entry)
    {
        lock (_lock)
        {
            if (entry.Completion.Task.IsCompleted || entry.Abandoned || --entry.Waiters > 0)
                return;
            entry.Abandoned = true;
            RemoveLocked(entry);
        }

        // Outside the lock: the backend call's cancellation callbacks run here.
        entry.Abandon.Cancel();
    }

    private async Task RunAsync(Entry entry, IMlpService service, MlpServiceRequest request, ILogger logger)
    {
        MlpServiceResponse response;
        try
        {
            // The deadline is the request's (the executor's); the only other cancellation is every copy having gone.
            response = await MlpRequestExecutor.InvokeAsync(service, request, _time, logger, entry.Abandon.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (entry.Abandoned)
        {
            // Nobody waits for it.
            entry.Completion.TrySetCanceled();
            return;
        }
        catch (OperationCanceledException)
        {
            // A service that threw a cancellation of its own: the executor lets it through; here it is the service failing.
            response = MlpServiceResponse.Empty(500, "service failed");
        }

        // Every copy's writer gets this one answer: it owns its bytes (a pooled array goes back to the pool here, once).
        var body = response.Body.ToArray();
        if (response.RentedBody is { } rented)
            ReturnRented(rented);
        var answer = new MlpServiceResponse(response.Status, response.Headers, body);
        Complete(entry, answer);
        entry.Completion.TrySetResult(answer);
    }

    private void Complete(Entry entry, MlpServiceResponse answer)
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            if (entry.Abandoned)
                return;
            if (answer.Status >= 500)
            {
                // Not kept: a later copy is a real retry.
                RemoveLocked(entry);
                return;
            }

            var size = SizeOf(answer);
            if (_keptBytes + size > _maxBytes)
            {
                RemoveLocked(entry);
                BoundHitLocked("bytes", now);
                return;
            }

            entry.Answer = answer;
            entry.Size = size;
            entry.ExpiresAt = now + (long)(_window.TotalSeconds * _time.TimestampFrequency);
            _keptBytes += size;
            _kept.Enqueue(entry);
        }
    }

    private void SweepLocked(long now)
    {
        while (_kept.TryPeek(out var oldest) && oldest.ExpiresAt <= now)
        {
            _kept.Dequeue();
            _keptBytes -= oldest.Size;
            RemoveLocked(oldest);
        }
    }

    /// <summary>Removes <paramref name="entry"/> if it is still the one under its key (a later call with the same key may have replaced it).</summary>
    private void RemoveLocked(Entry entry)
    {
        if (_entries.TryGetValue(entry.Key, out var current) && ReferenceEquals(current, entry))
            _entries.Remove(entry.Key);
    }

    private void BoundHitLocked(string bound, long now)
    {
        _metrics.CallsNotCoalesced.Add(1, MlpMetrics.Tag("bound", bound));
        if (_lastBoundLog != long.MinValue && _time.GetElapsedTime(_lastBoundLog, now) < BoundLogInterval)
            return;
        _lastBoundLog = now;
        MlpLog.CoalescingBoundHit(_logger, bound, _entries.Count, _keptBytes);
    }

    private static long SizeOf(MlpServiceResponse answer)
    {
        long size = answer.Body.Length;
        foreach (var field in answer.Headers)
            size += HeaderFieldOverhead + field.Name.Length + field.Value.Length;
        return size;
    }

    private readonly record struct CallKey(string DeviceId, string UserId, string Service, string Operation, string CallId);

    /// <summary>One call: running (<see cref="Completion"/>, its waiters) until answered, then kept (<see cref="Answer"/>) until it expires.</summary>
    private sealed class Entry(CallKey key)
    {
        public CallKey Key { get; } = key;

        /// <summary>Cancelled when the last waiting copy has gone; never disposed (it has no timer, and a late cancel must not throw).</summary>
        public CancellationTokenSource Abandon { get; } = new();

        public TaskCompletionSource<MlpServiceResponse> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Waiters { get; set; }

        public bool Abandoned { get; set; }

        public MlpServiceResponse? Answer { get; set; }

        public long Size { get; set; }

        public long ExpiresAt { get; set; }
    }
}
