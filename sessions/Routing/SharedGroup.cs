namespace AccessLayer.Sessions.Routing;

/// <summary>
/// The members of one shared subscription, identified by (group name, filter): each matching
/// message goes to one member, chosen round robin. The cursor is advanced with an interlocked
/// increment so concurrent matchers (holding only the read lock) never pick by a torn count.
/// </summary>
internal sealed class SharedGroup(string name)
{
    private int _cursor = -1;

    public string Name { get; } = name;

    public SubscriberSet Members { get; } = new();

    /// <summary>The next member in turn; the group must not be empty.</summary>
    public ref readonly SubscriberSet.Entry Next()
    {
        uint turn = (uint)Interlocked.Increment(ref _cursor);
        return ref Members[(int)(turn % (uint)Members.Count)];
    }
}
