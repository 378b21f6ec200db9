using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace AccessLayer.Gateway.Connections;

/// <summary>The server-side close shared by every protocol's connection.</summary>
internal static class GracefulClose
{
    /// <summary>How long a closing connection's writer may take to hand over what it still owes.</summary>
    public static readonly TimeSpan DrainBound = TimeSpan.FromSeconds(2);

    /// <summary>How long a closed connection keeps reading (and discarding) what its peer still sends, so the peer reads our last packet instead of a reset.</summary>
    public static readonly TimeSpan LingerBound = TimeSpan.FromSeconds(2);

    /// <summary>How much a lingering close discards at most before it closes anyway.</summary>
    public const long LingerMaxBytes = 1024 * 1024;

    /// <summary>
    /// Waits (bounded) until the writer has drained, stops it, then completes the output so the
    /// transport sends what it holds followed by a FIN — an abort would discard a final
    /// DISCONNECT or GOAWAY. Returns false when the peer did not read in time; the caller aborts.
    /// </summary>
    public static async Task<bool> CompleteOutputAsync(Task drained, PipeWriter output, TimeProvider time, Action stopWriter)
    {
        var graceful = true;
        try
        {
            await drained.WaitAsync(DrainBound, time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            graceful = false;
        }

        stopWriter();
        if (graceful)
        {
            try
            {
                await output.CompleteAsync().ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                graceful = false;
            }
        }

        return graceful;
    }

    /// <summary>
    /// Lingering close, the reading half: our side is shut (FIN after the last bytes, a DISCONNECT or GOAWAY),
    /// but a peer still sending would get a reset for every byte that reaches a closed socket, and a reset can
    /// reach it before it read our last packet. So read and discard what it still sends until it closes its
    /// side, <see cref="LingerBound"/> passes, or <see cref="LingerMaxBytes"/> were discarded.
    /// </summary>
    public static async Task DiscardAsync(PipeReader input, TimeProvider time)
    {
        var linger = new LingerState(input);
        using var timer = time.CreateTimer(static state => ((LingerState)state!).Expire(), linger, LingerBound, Timeout.InfiniteTimeSpan);
        long discarded = 0;
        try
        {
            while (discarded <= LingerMaxBytes)
            {
                var result = await input.ReadAsync().ConfigureAwait(false);
                discarded += result.Buffer.Length;
                input.AdvanceTo(result.Buffer.End);

                // A cancel the application left pending is not the end; the timer's is.
                if (result.IsCompleted || (result.IsCanceled && linger.Expired))
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is ConnectionResetException or ConnectionAbortedException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The peer reset or the transport stopped: nothing left to linger for.
        }
    }

    private sealed class LingerState(PipeReader reader)
    {
        private volatile bool _expired;

        public bool Expired => _expired;

        public void Expire()
        {
            _expired = true;
            reader.CancelPendingRead();
        }
    }
}
