using System.IO.Pipelines;

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
}
