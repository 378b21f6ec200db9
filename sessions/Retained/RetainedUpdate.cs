namespace AccessLayer.Sessions.Retained;

/// <summary>What a PUBLISH with RETAIN did to the retained store.</summary>
public enum RetainedUpdate
{
    Stored = 0,
    Replaced = 1,
    Deleted = 2,

    /// <summary>An empty payload for a topic with nothing retained.</summary>
    NothingToDelete = 3,

    /// <summary>Not retained: a new topic past <c>Sessions:MaxRetainedMessages</c>. The PUBLISH is still routed.</summary>
    NotStoredCountLimit = 4,

    /// <summary>Not retained: it would take the store past <c>Sessions:MaxRetainedBytes</c>. The PUBLISH is still routed.</summary>
    NotStoredBytesLimit = 5,
}
