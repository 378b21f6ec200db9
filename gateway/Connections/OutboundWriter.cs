using System.IO.Pipelines;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Metrics;
using Microsoft.AspNetCore.Connections;

namespace AccessLayer.Gateway.Connections;

/// <summary>
/// The outbound actor every protocol's connection is: the only code that writes to the connection.
/// Work arrives in a FIFO from any thread and is drained by one loop that exists only while there is
/// work, so an idle connection holds neither a task nor (unless it asks to keep it) a queue. The queue is
/// bounded by the connection (<see cref="Admit"/>, with the bytes <see cref="SizeOf"/> says each item
/// holds); writes can be held and released, deferred to the end of the waking read, and stopped for good.
/// A protocol supplies how one item is written (<see cref="ProcessAsync"/>) and what its bounds and
/// metrics are; the loop, the flushing, the close-after-flush and the failure handling are here once.
/// </summary>
/// <remarks>
/// A base class rather than a field: the connection object is the actor and its lock (a thin lock in the
/// object header), so a connection pays no extra object for it. Nothing outside the connection locks on it.
/// </remarks>
internal abstract class OutboundWriter<TItem> : IThreadPoolWorkItem
    where TItem : struct
{
    /// <summary>Buffered past this, the loop flushes even with more queued: batches under load, never delays a lone item.</summary>
    private const long FlushThreshold = 64 * 1024;

    private Queue<TItem>? _queue;
    private long _queuedBytes;
    private int _queuedCount;
    private bool _scheduled;
    private bool _writesClosed;
    private bool _held;

    // Scheduled, but the start waits for the end of the waking read (TryDeferStart).
    private bool _deferred;

    /// <summary>Where items are written; flushed by the loop.</summary>
    protected abstract PipeWriter Output { get; }

    /// <summary>For the writer's failure log.</summary>
    protected abstract ILogger WriterLogger { get; }

    protected abstract GatewayMetrics WriterMetrics { get; }

    /// <summary>The loop name a failure is counted under (<c>gateway.loop.failures</c>).</summary>
    protected abstract string WriterLoopName { get; }

    protected abstract string WriterConnectionId { get; }

    /// <summary>The connection's own close is under way (it completes the output itself).</summary>
    protected abstract bool IsCloseRequested { get; }

    /// <summary>Where the drained signal lives (a protocol may keep it with its rarely used state).</summary>
    protected abstract TaskCompletionSource? DrainedSignal { get; set; }

    /// <summary>Items queued and not yet taken by the loop, readable without the lock.</summary>
    protected int QueuedCount => Volatile.Read(ref _queuedCount);

    /// <summary>Bytes (as <see cref="SizeOf"/> counts them) queued and not yet taken by the loop, readable without the lock.</summary>
    protected long QueuedBytes => Volatile.Read(ref _queuedBytes);

    /// <summary>Writes are stopped for good; read under the lock.</summary>
    protected bool WritesClosed => _writesClosed;

    /// <summary>Whether an idle loop drops its empty queue (else <see cref="ReleaseIdleQueue"/> does, from maintenance).</summary>
    protected virtual bool DropsQueueWhenIdle => true;

    /// <summary>Whether a writer woken by <see cref="Enqueue"/> starts on the calling thread (until its first real wait) or on the thread pool.</summary>
    protected virtual bool StartsOnCaller => true;

    /// <summary>Queued past this while the start is deferred, the writer starts at once.</summary>
    protected virtual int DeferredStartLimit => int.MaxValue;

    /// <summary>Under the lock: whether <paramref name="item"/> may join a queue of <paramref name="count"/> items and <paramref name="bytes"/> bytes. A refusal is the protocol's to count and act on.</summary>
    protected abstract bool Admit(in TItem item, int count, long bytes);

    /// <summary>What a queued item holds on to, for the byte bound; 0 for items that are not counted.</summary>
    protected virtual long SizeOf(in TItem item) => 0;

    /// <summary>Writes one item to <see cref="Output"/> (or acts on it); only the loop calls it, one item at a time.</summary>
    protected abstract ValueTask ProcessAsync(TItem item);

    /// <summary>Under the lock, while the loop starts: true when the start is deferred (a later <see cref="StartDeferredWriter"/> starts it).</summary>
    protected virtual bool TryDeferStart() => false;

    /// <summary>Under the lock, after the loop took an item.</summary>
    protected virtual void OnDequeued()
    {
    }

    /// <summary>Under the lock, when the loop found the queue empty and ends.</summary>
    protected virtual void OnIdle()
    {
    }

    /// <summary>Under the lock, once, when writes stop for good.</summary>
    protected virtual void OnWritesClosed()
    {
    }

    /// <summary>Before each flush, with what the loop wrote since the last one buffered.</summary>
    protected virtual void OnFlushing()
    {
    }

    /// <summary>A flush has to wait: the socket is full, the peer is not keeping up.</summary>
    protected virtual void OnFlushBlocked()
    {
    }

    /// <summary>Failures that mean the transport went away under the writer (the reader sees it too); anything else is logged and counted.</summary>
    protected virtual bool IsExpectedFailure(Exception exception) =>
        exception is IOException or InvalidOperationException or OperationCanceledException or ObjectDisposedException or ConnectionAbortedException;

    /// <summary>Ends the transport at once (the reader too), discarding anything unsent.</summary>
    protected abstract void AbortTransport(Exception failure);

    /// <summary>
    /// Queues work for the writer and starts it when none runs (unless writes are held, or the start is
    /// deferred to the end of the waking read; a deferred backlog past <see cref="DeferredStartLimit"/>
    /// starts it at once).
    /// </summary>
    protected void Enqueue(in TItem item)
    {
        bool schedule;
        lock (this)
        {
            if (_writesClosed)
            {
                return;
            }

            _queue ??= new Queue<TItem>(4);
            var count = _queue.Count;
            if (!Admit(item, count, _queuedBytes))
            {
                return;
            }

            var size = SizeOf(item);
            if (size != 0)
            {
                Volatile.Write(ref _queuedBytes, _queuedBytes + size);
            }

            _queue.Enqueue(item);
            Volatile.Write(ref _queuedCount, count + 1);
            schedule = !_scheduled && !_held;
            _scheduled |= schedule;
            if (schedule)
            {
                _deferred = TryDeferStart();
                schedule = !_deferred;
            }
            else if (_deferred && count + 1 >= DeferredStartLimit)
            {
                // Enough for one good write: start now rather than let a long read pile up a backlog.
                _deferred = false;
                schedule = true;
            }
        }

        if (schedule)
        {
            Start(StartsOnCaller);
        }
    }

    /// <summary>Queues <paramref name="item"/> past the bound (a final GOAWAY, say) and starts the writer on the thread pool if none runs, held or not.</summary>
    protected void EnqueueFinal(in TItem item)
    {
        bool schedule;
        lock (this)
        {
            if (_writesClosed)
            {
                return;
            }

            (_queue ??= new Queue<TItem>(1)).Enqueue(item);
            Volatile.Write(ref _queuedCount, _queue.Count);
            schedule = !_scheduled;
            _scheduled = true;
        }

        if (schedule)
        {
            Start(onCaller: false);
        }
    }

    /// <summary>Starts a writer whose start was deferred to the end of a read (unless it started since).</summary>
    public void StartDeferredWriter()
    {
        lock (this)
        {
            if (!_deferred)
            {
                return;
            }

            _deferred = false;
        }

        _ = DrainAsync();
    }

    /// <summary>Queue without writing until <see cref="ReleaseWrites"/>.</summary>
    public void HoldWrites()
    {
        lock (this)
        {
            _held = true;
        }
    }

    /// <summary>Writes what was queued while held, on the calling thread when no writer runs: one pass, one flush, no thread hop.</summary>
    public void ReleaseWrites()
    {
        lock (this)
        {
            _held = false;
            if (_scheduled || _writesClosed || _queue is not { Count: > 0 })
            {
                return;
            }

            _scheduled = true;
        }

        _ = DrainAsync();
    }

    /// <summary>Drops an empty queue when no writer runs (for connections that keep theirs between batches).</summary>
    public void ReleaseIdleQueue()
    {
        lock (this)
        {
            if (_queue is { Count: 0 } && !_scheduled && !_held)
            {
                _queue = null;
            }
        }
    }

    /// <summary>Under the lock: drops everything queued (for a consumer that is evicted); returns how many items that was.</summary>
    protected int ClearQueue()
    {
        var queued = _queue?.Count ?? 0;
        _queue?.Clear();
        Volatile.Write(ref _queuedCount, 0);
        Volatile.Write(ref _queuedBytes, 0);
        return queued;
    }

    /// <summary>Completes when everything queued so far has been written and flushed (at once when writes are stopped or held).</summary>
    protected Task WhenOutboundDrainedAsync()
    {
        lock (this)
        {
            if (_writesClosed || (!_scheduled && (_held || _queue is not { Count: > 0 })))
            {
                return Task.CompletedTask;
            }

            var signal = DrainedSignal ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return signal.Task;
        }
    }

    /// <summary>Stops the writer for good; what is still queued is dropped.</summary>
    public void CloseWrites()
    {
        lock (this)
        {
            if (_writesClosed)
            {
                return;
            }

            _writesClosed = true;
            CompleteDrainedSignal();
            _queue = null;
            Volatile.Write(ref _queuedCount, 0);
            Volatile.Write(ref _queuedBytes, 0);
            OnWritesClosed();
        }
    }

    void IThreadPoolWorkItem.Execute() => _ = DrainAsync();

    private void Start(bool onCaller)
    {
        if (onCaller)
        {
            // Runs until its first real wait (a full socket), so a lone item goes out without a thread-pool hop.
            _ = DrainAsync();
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    private void CompleteDrainedSignal()
    {
        if (DrainedSignal is { } drained)
        {
            drained.TrySetResult();
            DrainedSignal = null;
        }
    }

    private async Task DrainAsync()
    {
        try
        {
            while (true)
            {
                TItem item;
                bool more;
                lock (this)
                {
                    if (_writesClosed || !_queue!.TryDequeue(out item))
                    {
                        Volatile.Write(ref _queuedCount, 0);
                        _scheduled = false;
                        CompleteDrainedSignal();
                        OnIdle();
                        if (DropsQueueWhenIdle && _queue is { Count: 0 })
                        {
                            // An idle connection keeps no queue storage.
                            _queue = null;
                        }

                        return;
                    }

                    more = _queue.Count > 0;
                    Volatile.Write(ref _queuedCount, _queue.Count);
                    var size = SizeOf(item);
                    if (size != 0)
                    {
                        Volatile.Write(ref _queuedBytes, _queuedBytes - size);
                    }

                    OnDequeued();
                }

                await ProcessAsync(item).ConfigureAwait(false);
                if (!more || Output.UnflushedBytes > FlushThreshold)
                {
                    OnFlushing();
                    var flushing = Output.FlushAsync();
                    if (!flushing.IsCompleted)
                    {
                        OnFlushBlocked();
                    }

                    var flush = await flushing.ConfigureAwait(false);
                    if (flush.IsCompleted || flush.IsCanceled)
                    {
                        CloseWrites();
                        return;
                    }
                }
            }
        }
        catch (Exception ex)
        {
            WriterFailed(ex, IsExpectedFailure(ex));
        }
    }

    /// <summary>
    /// The writer ended with an exception: nothing can be written on this connection anymore, so it is
    /// closed rather than left open and mute (a client would wait for answers forever). The writer runs
    /// unobserved, so this is the only place its failure is seen.
    /// </summary>
    private void WriterFailed(Exception exception, bool expected)
    {
        CloseWrites();
        if (!expected)
        {
            LoopLog.WriterFailed(WriterLogger, exception, WriterConnectionId);
            WriterMetrics.LoopFailed(WriterLoopName);
        }

        if (!IsCloseRequested)
        {
            // Not a close the connection started (that one completes the output itself): end the reader too.
            AbortTransport(exception);
        }
    }
}
