namespace AccessLayer.Client.Internal;

/// <summary>
/// Tail-loss repair on a lossy path (docs/sdk.md "Tail-loss trailers"). A REQUEST that is the last segment its TCP stream sent
/// waits, when it is lost, for the sender's tail-loss probe or retransmission timeout (about 0.8 s at 400 ms RTT): no later
/// segment arrives for the receiver to acknowledge selectively. With one after it, the receiver's SACK of that segment lets the
/// sender's RACK (RFC 8985) resend the lost one after about RTT + RTT/4. So while the path's calls wait for retransmissions, or
/// the path is not Good and not known yet (<see cref="MlpHedger.MayBeLossy"/>: a fresh connection's first RTO is about three round
/// trips, docs/sdk.md "The start of a link"), <see cref="MlpWeakNetworkOptions.TailLossTrailerDelay"/> after a request that is still
/// the last frame sent on its link, an empty PING follows it; the server's PONG, sent on receipt, trails the RESPONSE in the
/// same way when the backend answered within that delay. The PONG of an empty PING is no heartbeat's answer (the heartbeat's
/// PINGs carry a timestamp).
/// </summary>
internal sealed class MlpLinkTrailer(MlpLink link, MlpClient client)
{
    private readonly TimeProvider _time = client.Options.TimeProvider;
    private readonly MlpWeakNetworkOptions _weak = client.Options.WeakNetwork;

    /// <summary>A request was flushed at <paramref name="flushedTimestamp"/>: on a lossy path a trailer follows it unless something else does first.</summary>
    public void AfterRequest(long flushedTimestamp)
    {
        if (!_weak.TailLossTrailers || !client.Router.Hedger.MayBeLossy)
            return;
        var pending = new Pending(this, flushedTimestamp);
        pending.Timer = _time.CreateTimer(static state => ((Pending)state!).Fire(), pending, _weak.TailLossTrailerDelay, Timeout.InfiniteTimeSpan);
    }

    private void Send(long flushedTimestamp)
    {
        // Any frame sent since (another request, a PING, an ACK) already trails the request.
        if (!link.IsOpen || link.LastSentTimestamp > flushedTimestamp)
            return;
        client.CountTrailer();
        _ = MlpLink.Background(link.SendTrailerAsync());
    }

    private sealed class Pending(MlpLinkTrailer owner, long flushedTimestamp)
    {
        public ITimer? Timer { get; set; }

        public void Fire()
        {
            Timer?.Dispose();
            owner.Send(flushedTimestamp);
        }
    }
}
