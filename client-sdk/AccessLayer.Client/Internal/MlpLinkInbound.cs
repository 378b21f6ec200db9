using System.Buffers;
using System.Collections.Concurrent;
using AccessLayer.Protocol.Compression;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;

namespace AccessLayer.Client.Internal;

/// <summary>
/// What the server sends on one <see cref="MlpLink"/>, decoded in frame order: WELCOME, RESPONSE and
/// ERROR completing the pending calls (server-to-client HPACK context), PUSH handed to the push loop,
/// PING answered, PONG to the heartbeat, DICT offers fetched and data stored, GOAWAY recorded.
/// </summary>
internal sealed class MlpLinkInbound(MlpLink link, MlpClient client, MlpLinkPushes pushes, MlpLinkHeartbeat beat, TaskCompletionSource<Welcome> welcome)
{
    private readonly HpackDecoder _decoder = new(new HpackDecoderOptions { DynamicTableSizeLimit = client.Options.HpackTableSize, MaxHeaderListSize = 64 * 1024, MaxStringLength = 64 * 1024 });

    /// <summary>Calls sent and not answered yet, by stream id.</summary>
    public ConcurrentDictionary<uint, MlpPendingCall> Pending { get; } = new();

    /// <summary>
    /// How long the oldest unanswered call has waited (zero when none): on a lossy path, a link whose call is overdue is likely waiting
    /// for a retransmission, and every answer behind it on its TCP stream waits too.
    /// </summary>
    public TimeSpan OldestPendingAge(TimeProvider time)
    {
        var oldest = long.MaxValue;
        foreach (var (_, call) in Pending)
        {
            var sent = call.SentTimestamp;
            if (sent != 0 && sent < oldest)
                oldest = sent;
        }

        return oldest == long.MaxValue ? TimeSpan.Zero : time.GetElapsedTime(oldest);
    }

    /// <summary>
    /// How long the oldest call still unanswered on this link has waited, those given up on (<see cref="Abandon"/>) included (zero when
    /// none): the session link's copy of a call answered on another link is given up on, and its answer, still due, is what every answer
    /// behind it on the TCP stream waits for (docs/sdk.md "A stalled session link").
    /// </summary>
    public TimeSpan OldestUnansweredAge(TimeProvider time)
    {
        var oldest = long.MaxValue;
        foreach (var (_, sent) in _abandoned)
        {
            if (sent != 0 && sent < oldest)
                oldest = sent;
        }

        var pending = OldestPendingAge(time);
        var abandoned = oldest == long.MaxValue ? TimeSpan.Zero : time.GetElapsedTime(oldest);
        return abandoned > pending ? abandoned : pending;
    }

    /// <summary>Most calls given up on whose late answer is still awaited for its latency (<see cref="Abandon"/>); past it the oldest is forgotten.</summary>
    public const int MaxAbandoned = 64;

    private readonly ConcurrentDictionary<uint, long> _abandoned = new();

    /// <summary>Calls given up on whose late answer is still watched for (see <see cref="Abandon"/>).</summary>
    public int AbandonedCount => _abandoned.Count;

    /// <summary>
    /// A call given up on (its copy on another link answered first) whose late RESPONSE is still timed: the copy on the session link is
    /// the path's sample, and on a lossy path the slow ones are what the loss share is measured from (docs/sdk.md "Copies on a lossy
    /// path"). The late answer is otherwise ignored, as any other (docs/protocol.md §6).
    /// </summary>
    public void Abandon(uint streamId, long sentTimestamp)
    {
        if (_abandoned.Count >= MaxAbandoned)
        {
            var oldest = _abandoned.MinBy(static entry => entry.Key);
            _abandoned.TryRemove(oldest.Key, out _);
        }

        _abandoned[streamId] = sentTimestamp;
    }

    /// <summary>A call marked abandoned was answered before it left the pending calls: its mark goes (see <see cref="MlpLink.CallAsync"/>).</summary>
    public void Forget(uint streamId) => _abandoned.TryRemove(streamId, out _);

    /// <summary>Dictionaries asked for: true when one arrived, false when the server had none.</summary>
    public ConcurrentDictionary<uint, TaskCompletionSource<bool>> DictionaryFetches { get; } = new();

    /// <summary>
    /// The link ended: every call still owed fails (not processed when above the GOAWAY's last stream id, else with
    /// <paramref name="lost"/>) and every dictionary fetch ends without one.
    /// </summary>
    public void FailAll(GoAway? goAway, MlpException lost)
    {
        foreach (var (streamId, call) in Pending)
        {
            if (Pending.TryRemove(streamId, out _))
                call.Completion.TrySetException(goAway is not null && streamId > goAway.LastStreamId
                    ? new MlpException(goAway.Code, "Not processed before the server closed the connection.", notProcessed: true)
                    : lost);
        }

        foreach (var fetch in DictionaryFetches.Values)
            fetch.TrySetResult(false);
        _abandoned.Clear();
    }

    /// <summary>One frame, in the order received (HPACK blocks must be decoded in that order).</summary>
    public void Handle(in MlpFrame frame, long size)
    {
        if (!welcome.Task.IsCompleted && frame.Type is not (MlpFrameType.Welcome or MlpFrameType.GoAway))
            throw new MlpProtocolException(MlpErrorCode.UnexpectedFrame, $"{frame.Type} before WELCOME.");
        switch (frame.Type)
        {
            case MlpFrameType.Welcome:
                if (welcome.Task.IsCompleted)
                    throw new MlpProtocolException(MlpErrorCode.UnexpectedFrame, "A second WELCOME.");
                welcome.TrySetResult(MlpEnvelope.ParseWelcome(frame));
                break;
            case MlpFrameType.Response:
                HandleResponse(MlpResponseFrame.Parse(frame), size);
                break;
            case MlpFrameType.Error:
                var error = MlpEnvelope.ParseError(frame);
                if (Pending.TryRemove(error.StreamId, out var failed))
                    failed.Completion.TrySetException(new MlpException(error.Code, error.Message) { DictionaryId = error.DictionaryId, RetryAfterMs = error.RetryAfterMs });
                else
                    _abandoned.TryRemove(error.StreamId, out _);
                break;
            case MlpFrameType.Push:
                HandlePush(MlpPushFrame.Parse(frame));
                break;
            case MlpFrameType.Ping:
                var opaque = MlpPingFrame.Parse(frame).Opaque.ToArray();
                _ = MlpLink.Background(link.SendPongAsync(opaque));
                break;
            case MlpFrameType.Pong:
                // An empty PONG answers a tail-loss trailer (MlpLinkTrailer), not the heartbeat's timestamped PING.
                if (!MlpPingFrame.Parse(frame).Opaque.IsEmpty)
                    beat.OnPong();
                break;
            case MlpFrameType.Dict:
                HandleDict(MlpEnvelope.ParseDict(frame));
                break;
            case MlpFrameType.GoAway:
                var goAway = MlpEnvelope.ParseGoAway(frame);
                link.OnGoAway(goAway);
                if (!welcome.Task.IsCompleted)
                    welcome.TrySetException(new MlpException(goAway.Code, $"The server refused the connection: {goAway.Code} {goAway.Message}") { RetryAfterMs = goAway.RetryAfterMs });
                break;
            default:
                throw new MlpProtocolException(MlpErrorCode.UnexpectedFrame, $"{frame.Type} is not sent by servers.");
        }
    }

    private void HandleResponse(in MlpResponseFrame response, long size)
    {
        // Decoded whatever happens to the call: the block moves the dynamic table.
        var headers = _decoder.Decode(response.HeaderBlock);
        if (!Pending.TryRemove(response.StreamId, out var call))
        {
            if (_abandoned.TryRemove(response.StreamId, out var sent))
                client.Router.CallLatency.Add(client.Options.TimeProvider.GetElapsedTime(sent));
            return;
        }

        try
        {
            var body = client.Bodies.Decode(response.Body, response.IsBodyCompressed, out var dictionaryId);
            call.Completion.TrySetResult(new MlpResponse
            {
                Status = response.Status,
                Headers = headers,
                Body = body,
                Transport = link.TransportName,
                BytesSent = call.BytesSent,
                BytesReceived = size,
                RequestCompressed = call.RequestCompressed,
                RequestDictionaryId = call.RequestDictionaryId,
                ResponseCompressed = response.IsBodyCompressed,
                ResponseDictionaryId = dictionaryId,
            });
        }
        catch (ZstdException ex)
        {
            call.Completion.TrySetException(new MlpException(MlpCompressionErrors.ToErrorCode(ex.Kind), "The response body could not be decompressed: " + ex.Message) { DictionaryId = ex.DictionaryId });
        }
    }

    private void HandlePush(in MlpPushFrame push)
    {
        var headers = _decoder.Decode(push.HeaderBlock);
        byte[] body;
        try
        {
            body = client.Bodies.Decode(push.Body, push.IsBodyCompressed, out _);
        }
        catch (ZstdException ex)
        {
            // Not ACKed: the server re-delivers it on the next connection.
            throw new MlpProtocolException(MlpCompressionErrors.ToErrorCode(ex.Kind), "A PUSH body could not be decompressed: " + ex.Message, ex);
        }

        string service = string.Empty, operation = string.Empty;
        foreach (var header in headers)
        {
            if (header.Name == ":service")
                service = header.Value;
            else if (header.Name == ":operation")
                operation = header.Value;
        }

        pushes.Enqueue(new MlpPush { Sequence = push.Sequence, Service = service, Operation = operation, Headers = headers, Body = body, Redelivered = push.IsRedelivered });
    }

    private void HandleDict(Dict dict)
    {
        switch (dict.KindCase)
        {
            case Dict.KindOneofCase.Offer:
                if (!client.Bodies.Holds(dict.Offer.Id))
                {
                    var id = dict.Offer.Id;
                    DictionaryFetches.TryAdd(id, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
                    _ = MlpLink.Background(link.SendDictFetchAsync(id, CancellationToken.None));
                }

                break;
            case Dict.KindOneofCase.Data:
                var added = !dict.Data.Content.IsEmpty && client.Bodies.Add(dict.Data.Id, dict.Data.Content.ToByteArray());
                if (added)
                    client.OnDictionaryAdded(dict.Data.Id);
                if (DictionaryFetches.TryRemove(dict.Data.Id, out var fetch))
                    fetch.TrySetResult(added);
                break;
            default:
                throw new MlpProtocolException(MlpErrorCode.UnexpectedFrame, "Servers send DICT offer or data, not fetch.");
        }
    }
}
