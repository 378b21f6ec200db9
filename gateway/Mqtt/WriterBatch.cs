namespace AccessLayer.Gateway.Mqtt;

/// <summary>A connection writer whose start can wait for the end of the waking read.</summary>
internal interface IDeferredWriter
{
    void StartDeferredWriter();
}

/// <summary>
/// Defers starting the writers that a reader's packets wake until the reader has handled everything
/// one read returned. Fifty deliveries to one subscriber (or fifty PUBACKs to the publisher) from one
/// read then go out in one flush, one send, instead of fifty; a lone packet is not delayed, its read
/// holds only it. Per thread: a reader opens the batch, and closes it before it waits for anything, so
/// a deferred writer never outlives the thread's turn. Writers woken on threads with no open batch
/// (HTTP push, maintenance, timers) start at once, as before.
/// </summary>
internal static class WriterBatch
{
    [ThreadStatic]
    private static List<IDeferredWriter>? t_pending;

    [ThreadStatic]
    private static bool t_open;

    public static void Open() => t_open = true;

    /// <returns>true when the writer will be started by <see cref="Close"/>; false: start it now.</returns>
    public static bool TryDefer(IDeferredWriter writer)
    {
        if (!t_open)
        {
            return false;
        }

        (t_pending ??= new List<IDeferredWriter>(8)).Add(writer);
        return true;
    }

    /// <summary>Starts every deferred writer of this thread; later wakes start at once until the next <see cref="Open"/>.</summary>
    public static void Close()
    {
        t_open = false;
        var pending = t_pending;
        if (pending is null || pending.Count == 0)
        {
            return;
        }

        // A writer started here can complete a signal whose continuation runs inline and opens a batch of
        // its own on this thread: it gets a fresh list, this one is not touched while it is walked.
        t_pending = null;
        foreach (var writer in pending)
        {
            writer.StartDeferredWriter();
        }

        pending.Clear();
        t_pending ??= pending;
    }
}
