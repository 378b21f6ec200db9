using System.Buffers;
using System.IO.Pipelines;
using AccessLayer.Gateway.Connections;
using AccessLayer.Gateway.Metrics;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp.Envelopes;
using AccessLayer.Protocol.Mlp;
using Microsoft.AspNetCore.Connections;

namespace AccessLayer.Gateway.Mlp.Connections;

/// <summary>
/// The writer (<see cref="OutboundWriter{TItem}"/>): the only code that writes to this connection. Work
/// arrives from any thread (the reader, request tasks, the push API, maintenance). It owns the
/// server-to-client HPACK encoder, so header blocks reach the wire in the order they were encoded, and the
/// push window.
/// </summary>
internal sealed partial class MlpConnection
{
    private readonly ArrayBufferWriter<byte> _headerScratch = new(256);
    private TaskCompletionSource? _drainedSignal;
    private Task? _closeTask;
    private string? _closeReason;
    private int _closing;
    private long _unmeteredBytes;
    private HpackEncoder? _encoder;

    protected override PipeWriter Output => _transport.Pipe.Output;

    protected override ILogger WriterLogger => _logger;

    protected override GatewayMetrics WriterMetrics => _gateway.GatewayMetrics;

    protected override string WriterLoopName => "mlp_writer";

    protected override string WriterConnectionId => ConnectionId;

    protected override bool IsCloseRequested => IsClosing;

    protected override TaskCompletionSource? DrainedSignal
    {
        get => _drainedSignal;
        set => _drainedSignal = value;
    }

    // A busy connection keeps its queue between batches; maintenance drops an idle one (ReleaseIdleQueue).
    protected override bool DropsQueueWhenIdle => false;

    // The reader writes what a read's frames produced at the end of the read (EndWriteBatch); other wakes go to the pool.
    protected override bool StartsOnCaller => false;


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

    private void Send(MlpOutbound item) => Enqueue(item);

    /// <summary>
    /// A client that lets the queue grow past the bound is closed as a slow consumer. Control envelopes
    /// (ERROR, DICT) get as much again as slack, so a burst of refusals is not mistaken for a slow consumer,
    /// but they are bounded too: a client that pipelines refused requests and never reads would otherwise
    /// grow the queue without limit.
    /// </summary>
    protected override bool Admit(in MlpOutbound item, int count, long bytes)
    {
        if (count < (item.Kind == MlpOutboundKind.Envelope ? 2 * _options.MaxOutboundQueue : _options.MaxOutboundQueue))
            return true;
        if (Volatile.Read(ref _closing) == 0)
        {
            MlpLog.SlowConsumer(_logger, DeviceId ?? ConnectionId, count);
            _gateway.Metrics.Disconnects.Add(1, MlpMetrics.Tag("reason", "slow_consumer"));
            ThreadPool.UnsafeQueueUserWorkItem(static c => c.RequestClose(MlpErrorCode.SlowConsumer, "The client reads too slowly."), this, preferLocal: false);
        }

        return false;
    }

    /// <summary>Responses queued from here on wait for <see cref="EndWriteBatch"/> (the reader's, once per read).</summary>
    private void BeginWriteBatch() => HoldWrites();

    /// <summary>
    /// Writes what the batch queued, on the reader's thread when no writer runs: one pass, one flush, no
    /// thread hop. The writer continues on the thread pool only if a flush or a push store has to wait.
    /// </summary>
    private void EndWriteBatch() => ReleaseWrites();

    /// <summary>A batch stops growing well before the slow-consumer bound, so a burst of pipelined requests is never mistaken for one.</summary>
    private bool BatchIsFull => QueuedCount >= Math.Min(64, _options.MaxOutboundQueue / 2);

    protected override void AbortTransport(Exception failure) => _transport.Abort("The connection's writer failed.");

    protected override void OnFlushing()
    {
        _gateway.Metrics.BytesSent.Add(_unmeteredBytes);
        _unmeteredBytes = 0;
    }


    protected override async ValueTask ProcessAsync(MlpOutbound item)
    {
        var before = Output.UnflushedBytes;
        await WriteAsync(item).ConfigureAwait(false);
        _unmeteredBytes += Output.UnflushedBytes - before;
    }

    private async ValueTask WriteAsync(MlpOutbound item)
    {
        switch (item.Kind)
        {
            case MlpOutboundKind.Envelope:
                MlpFrameWriter.WriteEnvelope(Output, item.EnvelopeType, item.Envelope!);
                if (item.DeliversDictionaryId != 0)
                    MarkClientHolds(item.DeliversDictionaryId);
                if (item.EnvelopeType == MlpFrameType.Error)
                    ReleaseTrailer();
                break;
            case MlpOutboundKind.Response:
                WriteResponse(item);
                ReturnRented(item.Rented);
                ReleaseTrailer();
                break;
            case MlpOutboundKind.Pong:
                MlpFrameWriter.WritePong(Output, item.Body.Span);
                break;
            case MlpOutboundKind.Push:
                WritePush(item.PushItem);
                break;
            case MlpOutboundKind.PumpPushes:
                if (Session is { } session && !IsClosing && !_secondary)
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
        lock (this)
        {
            if (_closeTask is not null)
                return false;
            _closeReason = reason;
            if (goAway is not null)
            {
                goAway.LastStreamId = _lastStreamId;
                EnqueueFinal(MlpOutbound.ForEnvelope(MlpFrameType.GoAway, goAway));
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
            lock (this)
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
}
