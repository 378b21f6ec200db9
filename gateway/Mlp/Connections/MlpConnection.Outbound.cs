using System.Buffers;
using System.IO.Pipelines;
using AccessLayer.Gateway.Connections;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp.Envelopes;
using AccessLayer.Protocol.Mlp;
using Microsoft.AspNetCore.Connections;

namespace AccessLayer.Gateway.Mlp.Connections;

/// <summary>
/// The writer: the only code that writes to this connection. Work arrives in a FIFO from any thread
/// (the reader, request tasks, the push API, maintenance) and is drained by one loop that exists only
/// while there is work. It owns the server-to-client HPACK encoder, so header blocks reach the wire
/// in the order they were encoded, and the push window.
/// </summary>
internal sealed partial class MlpConnection : IThreadPoolWorkItem
{
    private readonly Lock _outLock = new();
    private readonly ArrayBufferWriter<byte> _headerScratch = new(256);
    private Queue<MlpOutbound>? _outQueue;
    private bool _writerScheduled;
    private bool _batching;
    private bool _writesClosed;
    private TaskCompletionSource? _drainedSignal;
    private Task? _closeTask;
    private string? _closeReason;
    private int _closing;
    private HpackEncoder? _encoder;

    private PipeWriter Output => _transport.Pipe.Output;

    private bool IsClosing => Volatile.Read(ref _closing) != 0;

    private void InitializeEncoder(int clientTableSize) =>
        _encoder = new HpackEncoder(new HpackEncoderOptions
        {
            DynamicTableSizeLimit = clientTableSize,
            MaxDynamicTableSize = _options.ResponseHpackTableSize,
            DoNotIndexNames = ["date", "content-length", "etag", "x-request-id", "traceparent", "error-message"],
        });

    public void PostPumpPushes()
    {
        if (IsWelcomed)
            Send(MlpOutbound.PumpPushes);
    }

    public bool PostUnsequencedPush(Push.MlpPushMessage push)
    {
        if (!IsWelcomed || IsClosing)
            return false;
        Send(MlpOutbound.ForPush(new Push.MlpSequencedPush(0, push, false)));
        return true;
    }

    /// <summary>
    /// Queues work for the writer; a client that lets the queue grow past the bound is closed as a slow consumer.
    /// Control envelopes (ERROR, DICT) get as much again as slack, so a burst of refusals is not mistaken for a
    /// slow consumer, but they are bounded too: a client that pipelines refused requests and never reads would
    /// otherwise grow the queue without limit.
    /// </summary>
    private void Send(MlpOutbound item)
    {
        bool schedule;
        lock (_outLock)
        {
            if (_writesClosed)
                return;
            _outQueue ??= new Queue<MlpOutbound>(4);
            if (_outQueue.Count >= (item.Kind == MlpOutboundKind.Envelope ? 2 * _options.MaxOutboundQueue : _options.MaxOutboundQueue))
            {
                if (Volatile.Read(ref _closing) == 0)
                {
                    MlpLog.SlowConsumer(_logger, DeviceId ?? ConnectionId, _outQueue.Count);
                    _gateway.Metrics.Disconnects.Add(1, MlpMetrics.Tag("reason", "slow_consumer"));
                    ThreadPool.UnsafeQueueUserWorkItem(static c => c.RequestClose(MlpErrorCode.SlowConsumer, "The client reads too slowly."), this, preferLocal: false);
                }

                return;
            }

            _outQueue.Enqueue(item);

            // While the reader handles a read's frames it writes what they produced at the end: no writer yet.
            schedule = !_writerScheduled && !_batching;
            _writerScheduled |= schedule;
        }

        if (schedule)
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <summary>Responses queued from here on wait for <see cref="EndWriteBatch"/> (the reader's, once per read).</summary>
    private void BeginWriteBatch()
    {
        lock (_outLock)
        {
            _batching = true;
        }
    }

    /// <summary>
    /// Writes what the batch queued, on the reader's thread when no writer runs: one pass, one flush, no
    /// thread hop. The writer continues on the thread pool only if a flush or a push store has to wait.
    /// </summary>
    private void EndWriteBatch()
    {
        lock (_outLock)
        {
            _batching = false;
            if (_writerScheduled || _writesClosed || _outQueue is not { Count: > 0 })
                return;
            _writerScheduled = true;
        }

        _ = DrainAsync();
    }

    /// <summary>
    /// Drops an empty queue (the maintenance pass, once a second): a busy connection keeps its queue between
    /// batches instead of growing a new one each time, an idle one holds none.
    /// </summary>
    public void ReleaseIdleQueue()
    {
        lock (_outLock)
        {
            if (_outQueue is { Count: 0 } && !_writerScheduled && !_batching)
                _outQueue = null;
        }
    }

    /// <summary>A batch stops growing well before the slow-consumer bound, so a burst of pipelined requests is never mistaken for one.</summary>
    private bool BatchIsFull
    {
        get
        {
            lock (_outLock)
            {
                return _outQueue is { } queue && queue.Count >= Math.Min(64, _options.MaxOutboundQueue / 2);
            }
        }
    }

    void IThreadPoolWorkItem.Execute() => _ = DrainAsync();

    private async Task DrainAsync()
    {
        long unmetered = 0;
        try
        {
            while (true)
            {
                MlpOutbound item;
                bool more;
                lock (_outLock)
                {
                    if (_writesClosed || !_outQueue!.TryDequeue(out item))
                    {
                        _writerScheduled = false;
                        _drainedSignal?.TrySetResult();
                        _drainedSignal = null;
                        return;
                    }

                    more = _outQueue.Count > 0;
                }

                var before = Output.UnflushedBytes;
                await ProcessAsync(item).ConfigureAwait(false);
                unmetered += Output.UnflushedBytes - before;

                // Flush when the queue runs dry or a lot is buffered: batches under load, never delays a lone frame.
                if (!more || Output.UnflushedBytes > 64 * 1024)
                {
                    _gateway.Metrics.BytesSent.Add(unmetered);
                    unmetered = 0;
                    var flush = await Output.FlushAsync().ConfigureAwait(false);
                    if (flush.IsCompleted || flush.IsCanceled)
                    {
                        CloseWrites();
                        return;
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException or ObjectDisposedException or ConnectionAbortedException)
        {
            // Usually the transport went away under the writer; the reader sees it too and cleans up.
            WriterFailed(ex, expected: true);
        }
        catch (Exception ex)
        {
            WriterFailed(ex, expected: false);
        }
    }

    /// <summary>
    /// The writer ended with an exception: nothing can be written on this connection anymore, so it is
    /// closed rather than left open and mute. The writer runs unobserved: this is the only place its failure is seen.
    /// </summary>
    private void WriterFailed(Exception exception, bool expected)
    {
        CloseWrites();
        if (!expected)
        {
            LoopLog.WriterFailed(_logger, exception, ConnectionId);
            _gateway.GatewayMetrics.LoopFailed("mlp_writer");
        }

        if (!IsClosing)
        {
            // Not a close the server started (that one completes the output itself): end the reader too.
            _transport.Abort("The connection's writer failed.");
        }
    }

    private async ValueTask ProcessAsync(MlpOutbound item)
    {
        switch (item.Kind)
        {
            case MlpOutboundKind.Envelope:
                MlpFrameWriter.WriteEnvelope(Output, item.EnvelopeType, item.Envelope!);
                if (item.DeliversDictionaryId != 0)
                    MarkClientHolds(item.DeliversDictionaryId);
                break;
            case MlpOutboundKind.Response:
                WriteResponse(item);
                ReturnRented(item.Rented);
                break;
            case MlpOutboundKind.Pong:
                MlpFrameWriter.WritePong(Output, item.Body.Span);
                break;
            case MlpOutboundKind.Push:
                WritePush(item.PushItem);
                break;
            case MlpOutboundKind.PumpPushes:
                if (Session is { } session && !IsClosing)
                {
                    var pushes = await _gateway.Sessions.TakeAsync(session, _options.PushWindow, _lifetime.Token).ConfigureAwait(false);
                    foreach (var push in pushes)
                        WritePush(push);
                }

                break;
        }
    }

    private void WriteResponse(MlpOutbound item)
    {
        _headerScratch.ResetWrittenCount();
        _encoder!.Encode(item.Headers, _headerScratch);
        MlpFrameWriter.WriteResponse(Output, item.StreamId, item.Status, item.Flags, _headerScratch.WrittenSpan, item.Body.Span);
    }

    private void WritePush(Push.MlpSequencedPush push)
    {
        var message = push.Message;
        var (body, compressed, dictionaryId) = _gateway.Bodies.EncodeBody(message.Body, _clientZstd, ClientHoldsCallback);
        if (message.Body.Length > _clientMaxBodySize || body.Length + MlpHeaders.MaxEncodedSize(message.Headers) + 16 > _clientMaxFrameSize)
        {
            // Too big for this client ever: counted and skipped; a sequenced one stays until acknowledged, so it is sent anyway and the client decides.
            _gateway.Metrics.PushesDropped.Add(1, MlpMetrics.Tag("reason", "too_large"));
            if (push.Sequence == 0)
                return;
        }

        if (compressed)
            _gateway.Metrics.BodiesCompressed.Add(1, MlpMetrics.Tag("dictionary", dictionaryId == 0 ? "none" : dictionaryId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var flags = (compressed ? MlpFrameFlags.BodyZstd : MlpFrameFlags.None) | (push.Redelivered ? MlpFrameFlags.Redelivered : MlpFrameFlags.None);
        _headerScratch.ResetWrittenCount();
        _encoder!.Encode(message.Headers, _headerScratch);
        MlpFrameWriter.WritePush(Output, push.Sequence, flags, _headerScratch.WrittenSpan, body.Span);
        _gateway.Metrics.PushesSent.Add(1, MlpMetrics.Tag("kind", push.Sequence == 0 ? "unsequenced" : push.Redelivered ? "redelivered" : "new"));
    }

    /// <summary>
    /// Ends the connection from the server's side: GOAWAY with <paramref name="code"/> (none when null),
    /// then a close once everything queued is written. Idempotent.
    /// </summary>
    public void RequestClose(MlpErrorCode? code, string reason) =>
        Close(code is { } goAwayCode ? new GoAway { Code = goAwayCode, Message = reason } : null, reason);

    /// <summary>Like <see cref="RequestClose"/> with a full GOAWAY (endpoints, retry-after); false when already closing.</summary>
    public bool Close(GoAway? goAway, string reason)
    {
        lock (_outLock)
        {
            if (_closeTask is not null)
                return false;
            _closeReason = reason;
            if (goAway is not null && !_writesClosed)
            {
                goAway.LastStreamId = _lastStreamId;
                _outQueue ??= new Queue<MlpOutbound>(1);
                _outQueue.Enqueue(MlpOutbound.ForEnvelope(MlpFrameType.GoAway, goAway));
                if (!_writerScheduled)
                {
                    _writerScheduled = true;
                    ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
                }
            }

            Volatile.Write(ref _closing, 1);
            _closeTask = Task.Run(CloseAfterFlushAsync);
            return true;
        }
    }

    public bool IsClosingNow => IsClosing;

    private Task? PendingClose
    {
        get
        {
            lock (_outLock)
            {
                return _closeTask;
            }
        }
    }

    /// <summary>Completes the output once it is drained (so the GOAWAY is sent before the FIN); a peer that does not read in time is aborted.</summary>
    private async Task CloseAfterFlushAsync()
    {
        if (!await GracefulClose.CompleteOutputAsync(WhenOutboundDrainedAsync(), Output, _time, CloseWrites).ConfigureAwait(false))
            _transport.Abort(_closeReason ?? "closed by the server");
        _transport.Pipe.Input.CancelPendingRead();
    }

    private Task WhenOutboundDrainedAsync()
    {
        lock (_outLock)
        {
            if ((!_writerScheduled && _outQueue is not { Count: > 0 }) || _writesClosed)
                return Task.CompletedTask;
            _drainedSignal ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _drainedSignal.Task;
        }
    }

    private void CloseWrites()
    {
        lock (_outLock)
        {
            if (_writesClosed)
                return;
            _writesClosed = true;
            _drainedSignal?.TrySetResult();
            _drainedSignal = null;
            _outQueue = null;
        }
    }
}
