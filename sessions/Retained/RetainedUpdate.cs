namespace AccessLayer.Sessions.Retained;

/// <summary>What a PUBLISH with RETAIN did to the retained store.</summary>
public enum RetainedUpdate
{
    Stored = 0,
    Replaced = 1,
    Deleted = 2,

    /// <summary>An empty payload for a topic with nothing retained.</summary>
    NothingToDelete = 3,
}
