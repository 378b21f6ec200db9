using System.Buffers;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Gateway.Mlp.Connections;

/// <summary>
/// Trailers (docs/protocol.md §11): a client on a lossy path sends an empty PING right behind a REQUEST, so that TCP repairs a lost
/// request by selective acknowledgement instead of its retransmission timer. The PONG does the same for the RESPONSE only if it
/// leaves after it: so an empty PING that arrives while requests are in flight is answered right after the next RESPONSE or ERROR
/// this connection writes, in a write of its own <see cref="TrailerGap"/> later (a segment of its own, not coalesced with the
/// response). With nothing in flight it is answered at once, like any PING.
/// </summary>
internal sealed partial class MlpConnection
{
    /// <summary>Between a response and the trailer PONG it owes: enough for the response's flush to leave first.</summary>
    private static readonly TimeSpan TrailerGap = TimeSpan.FromMilliseconds(2);

    private int _owedTrailers;

    private void HandlePing(in MlpFrame frame)
    {
        var opaque = MlpPingFrame.Parse(frame).Opaque;
        if (opaque.IsEmpty && Volatile.Read(ref _inflight) > 0)
        {
            // Bounded by the requests in flight and the client's own PINGs; a count, no memory.
            Interlocked.Increment(ref _owedTrailers);
            return;
        }

        Send(MlpOutbound.ForPong(opaque.ToArray()));
    }

    /// <summary>The writer wrote a RESPONSE or ERROR: one owed trailer PONG follows it in a write of its own.</summary>
    private void ReleaseTrailer()
    {
        int owed;
        do
        {
            owed = Volatile.Read(ref _owedTrailers);
            if (owed == 0)
                return;
        }
        while (Interlocked.CompareExchange(ref _owedTrailers, owed - 1, owed) != owed);

        _ = Task.Delay(TrailerGap, _time).ContinueWith(static (_, state) => ((MlpConnection)state!).SendTrailerPong(), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void SendTrailerPong()
    {
        if (!IsClosing)
            Send(MlpOutbound.ForPong([]));
    }
}
