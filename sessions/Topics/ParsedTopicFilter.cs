namespace AccessLayer.Sessions.Topics;

/// <summary>A validated filter: the plain filter to match, and the share group when it was <c>$share/{group}/{filter}</c>.</summary>
public readonly record struct ParsedTopicFilter(string Filter, string? ShareGroup)
{
    public bool IsShared => ShareGroup is not null;
}
