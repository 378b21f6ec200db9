using AccessLayer.Sessions.Topics;

namespace AccessLayer.Sessions.Routing;

/// <summary>
/// Topic filters arranged by level: a node per literal level, a separate <c>+</c> child, and
/// two buckets of subscribers, one for filters ending at the node and one for filters ending
/// in <c>/#</c> below it. Matching a topic walks its levels once, branching only into
/// <c>+</c> children, so cost follows topic depth and wildcard count, not subscription count.
/// Not thread-safe: <see cref="InMemorySubscriptionRouter"/> guards it.
/// </summary>
internal sealed class TopicTrie
{
    private readonly Node _root = new();
    private readonly List<(Node Parent, Node Child, int LevelStart, int LevelLength)> _path = [];

    /// <summary>Subscriptions held, counting each share group member once.</summary>
    public int Count { get; private set; }

    /// <summary>Adds or replaces a subscription; true when it did not exist.</summary>
    public bool Add(in ParsedTopicFilter filter, string clientId, in SubscriptionOptions options)
    {
        Node node = _root;
        string text = filter.Filter;
        bool multiLevel = false;
        int pos = 0;
        while (pos <= text.Length)
        {
            int end = LevelEnd(text, pos);
            ReadOnlySpan<char> level = text.AsSpan(pos, end - pos);
            if (level is "#")
            {
                multiLevel = true;
                break;
            }

            if (level is "+")
            {
                node = node.Plus ??= new Node();
            }
            else
            {
                Node? child = node.Children.Get(level);
                if (child is null)
                {
                    child = new Node();
                    node.Children.Add(level.ToString(), child);
                }

                node = child;
            }

            pos = end + 1;
        }

        Bucket bucket = multiLevel ? (node.MultiLevel ??= new Bucket()) : (node.Exact ??= new Bucket());
        bool added;
        if (filter.ShareGroup is null)
        {
            added = (bucket.Direct ??= new SubscriberSet()).Set(clientId, options);
        }
        else
        {
            added = bucket.GetOrAddGroup(filter.ShareGroup).Members.Set(clientId, options);
        }

        if (added)
        {
            Count++;
        }

        return added;
    }

    /// <summary>Removes a subscription (or a member from its share group) and prunes emptied nodes; true when it existed.</summary>
    public bool Remove(in ParsedTopicFilter filter, string clientId)
    {
        _path.Clear();
        Node node = _root;
        string text = filter.Filter;
        bool multiLevel = false;
        int pos = 0;
        while (pos <= text.Length)
        {
            int end = LevelEnd(text, pos);
            ReadOnlySpan<char> level = text.AsSpan(pos, end - pos);
            if (level is "#")
            {
                multiLevel = true;
                break;
            }

            Node? child = level is "+" ? node.Plus : node.Children.Get(level);
            if (child is null)
            {
                return false;
            }

            _path.Add((node, child, pos, end - pos));
            node = child;
            pos = end + 1;
        }

        Bucket? bucket = multiLevel ? node.MultiLevel : node.Exact;
        if (bucket is null || !bucket.Remove(filter.ShareGroup, clientId))
        {
            return false;
        }

        Count--;
        if (bucket.IsEmpty)
        {
            if (multiLevel)
            {
                node.MultiLevel = null;
            }
            else
            {
                node.Exact = null;
            }
        }

        for (int i = _path.Count - 1; i >= 0; i--)
        {
            (Node parent, Node child, int start, int length) = _path[i];
            if (!child.IsEmpty)
            {
                break;
            }

            if (ReferenceEquals(parent.Plus, child))
            {
                parent.Plus = null;
            }
            else
            {
                parent.Children.Remove(text.AsSpan(start, length));
            }
        }

        _path.Clear();
        return true;
    }

    /// <summary>
    /// Appends a hit per matching subscription to <paramref name="into"/>: every direct
    /// subscriber except a No Local one that is the publisher, and one member per share group.
    /// </summary>
    public void Match(string topic, string? publisherClientId, SubscriberMatches into)
    {
        // 4.7.2: a filter starting with a wildcard does not match a topic starting with '$'.
        bool dollar = topic.Length > 0 && topic[0] == '$';
        Collect(_root, topic, 0, dollar, publisherClientId, into);
    }

    private static void Collect(Node node, string topic, int pos, bool noWildcards, string? publisher, SubscriberMatches into)
    {
        if (pos > topic.Length)
        {
            // Past the last level: filters ending here match, and so does "here/#" (4.7.1.2).
            Emit(node.Exact, publisher, into);
            Emit(node.MultiLevel, publisher, into);
            return;
        }

        if (!noWildcards)
        {
            Emit(node.MultiLevel, publisher, into);
        }

        int end = LevelEnd(topic, pos);
        Node? literal = node.Children.Get(topic.AsSpan(pos, end - pos));
        if (literal is not null)
        {
            Collect(literal, topic, end + 1, false, publisher, into);
        }

        if (node.Plus is { } plus && !noWildcards)
        {
            Collect(plus, topic, end + 1, false, publisher, into);
        }
    }

    private static void Emit(Bucket? bucket, string? publisher, SubscriberMatches into)
    {
        if (bucket is null)
        {
            return;
        }

        if (bucket.Direct is { } direct)
        {
            foreach (ref readonly SubscriberSet.Entry entry in direct.Entries)
            {
                if (entry.Options.NoLocal && publisher is not null && string.Equals(entry.ClientId, publisher, StringComparison.Ordinal))
                {
                    continue;
                }

                into.AddHit(entry.ClientId, entry.Options, null);
            }
        }

        if (bucket.Groups is { } groups)
        {
            // No Local on a shared subscription is a protocol error the gateway refuses (3.8.3.1), so it is not consulted.
            foreach (SharedGroup group in groups)
            {
                ref readonly SubscriberSet.Entry chosen = ref group.Next();
                into.AddHit(chosen.ClientId, chosen.Options, group.Name);
            }
        }
    }

    private static int LevelEnd(string text, int pos)
    {
        int slash = text.IndexOf('/', pos);
        return slash < 0 ? text.Length : slash;
    }

    private sealed class Node
    {
        public LevelMap<Node> Children;

        public Node? Plus;

        public Bucket? Exact;

        public Bucket? MultiLevel;

        public bool IsEmpty => Children.Count == 0 && Plus is null && Exact is null && MultiLevel is null;
    }

    private sealed class Bucket
    {
        public SubscriberSet? Direct;

        public List<SharedGroup>? Groups;

        public bool IsEmpty => Direct is null && Groups is null;

        public SharedGroup GetOrAddGroup(string name)
        {
            Groups ??= [];
            foreach (SharedGroup group in Groups)
            {
                if (string.Equals(group.Name, name, StringComparison.Ordinal))
                {
                    return group;
                }
            }

            var created = new SharedGroup(name);
            Groups.Add(created);
            return created;
        }

        public bool Remove(string? shareGroup, string clientId)
        {
            if (shareGroup is null)
            {
                if (Direct is null || !Direct.Remove(clientId))
                {
                    return false;
                }

                if (Direct.Count == 0)
                {
                    Direct = null;
                }

                return true;
            }

            if (Groups is null)
            {
                return false;
            }

            for (int i = 0; i < Groups.Count; i++)
            {
                SharedGroup group = Groups[i];
                if (!string.Equals(group.Name, shareGroup, StringComparison.Ordinal))
                {
                    continue;
                }

                if (!group.Members.Remove(clientId))
                {
                    return false;
                }

                if (group.Members.Count == 0)
                {
                    Groups.RemoveAt(i);
                    if (Groups.Count == 0)
                    {
                        Groups = null;
                    }
                }

                return true;
            }

            return false;
        }
    }
}
