namespace AccessLayer.SessionGrains.Durable;

/// <summary>
/// Redis did not confirm a durable queue operation in time, or refused it. The operation may
/// still land later (Redis was slow, not wrong): an append that faulted must be treated as not
/// acknowledged (no PUBACK), and may be delivered anyway, which QoS 1 allows.
/// </summary>
public sealed class DurableQueueUnavailableException : Exception
{
    public DurableQueueUnavailableException()
    {
    }

    public DurableQueueUnavailableException(string message)
        : base(message)
    {
    }

    public DurableQueueUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    internal DurableQueueUnavailableException(string message, bool timedOut)
        : base(message) => TimedOut = timedOut;

    /// <summary>Redis did not answer in time (down, unreachable or stalled), as opposed to refusing the command.</summary>
    public bool TimedOut { get; }
}
