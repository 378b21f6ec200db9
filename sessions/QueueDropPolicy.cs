namespace AccessLayer.Sessions;

/// <summary>What a full offline queue does with one more message.</summary>
public enum QueueDropPolicy
{
    /// <summary>Drop the oldest queued message to make room (a device that comes back wants the latest state).</summary>
    DropOldest = 0,

    /// <summary>Refuse the new message and keep what is queued.</summary>
    DropNew = 1,
}
