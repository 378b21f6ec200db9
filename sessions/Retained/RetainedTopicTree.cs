using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions.Topics;

namespace AccessLayer.Sessions.Retained;

/// <summary>
/// Retained messages arranged by topic level, so a filter is matched by walking it: a literal
/// level is one lookup, <c>+</c> visits every child, <c>#</c> takes the whole subtree.
/// Not thread-safe: <see cref="InMemoryRetainedMessageStore"/> guards it.
/// </summary>
internal sealed class RetainedTopicTree
{
    private readonly Node _root = new();
    private readonly List<(Node Parent, Node Child, int LevelStart, int LevelLength)> _path = [];
    private readonly List<string> _expiredScratch = [];

    public int Count { get; private set; }

    /// <summary>Bytes held, as <see cref="SizeOf"/> counts them.</summary>
    public long Bytes { get; private set; }

    /// <summary>What a retained message counts against the byte bound: payload plus topic.</summary>
    public static long SizeOf(MqttApplicationMessage message) => message.Payload.Length + message.Topic.Length;

    /// <summary>The retained message of <paramref name="topic"/>, or null.</summary>
    public MqttApplicationMessage? Get(string topic)
    {
        Node node = _root;
        int pos = 0;
        while (pos <= topic.Length)
        {
            int end = LevelEnd(topic, pos);
            Node? child = node.Children.Get(topic.AsSpan(pos, end - pos));
            if (child is null)
            {
                return null;
            }

            node = child;
            pos = end + 1;
        }

        return node.Message;
    }

    /// <summary>Stores or replaces; true when it replaced.</summary>
    public bool Set(MqttApplicationMessage message, DateTimeOffset storedAt)
    {
        string topic = message.Topic;
        Node node = _root;
        int pos = 0;
        while (pos <= topic.Length)
        {
            int end = LevelEnd(topic, pos);
            ReadOnlySpan<char> level = topic.AsSpan(pos, end - pos);
            Node? child = node.Children.Get(level);
            if (child is null)
            {
                child = new Node();
                node.Children.Add(level.ToString(), child);
            }

            node = child;
            pos = end + 1;
        }

        bool replaced = node.Message is not null;
        Bytes += SizeOf(message) - (node.Message is { } previous ? SizeOf(previous) : 0);
        node.Message = message;
        node.StoredAt = storedAt;
        if (!replaced)
        {
            Count++;
        }

        return replaced;
    }

    /// <summary>Deletes the retained message of <paramref name="topic"/> and prunes emptied nodes; true when there was one.</summary>
    public bool Remove(string topic)
    {
        _path.Clear();
        Node node = _root;
        int pos = 0;
        while (pos <= topic.Length)
        {
            int end = LevelEnd(topic, pos);
            Node? child = node.Children.Get(topic.AsSpan(pos, end - pos));
            if (child is null)
            {
                return false;
            }

            _path.Add((node, child, pos, end - pos));
            node = child;
            pos = end + 1;
        }

        if (node.Message is null)
        {
            return false;
        }

        Bytes -= SizeOf(node.Message);
        node.Message = null;
        Count--;
        for (int i = _path.Count - 1; i >= 0; i--)
        {
            (Node parent, Node child, int start, int length) = _path[i];
            if (child.Message is not null || child.Children.Count != 0)
            {
                break;
            }

            parent.Children.Remove(topic.AsSpan(start, length));
        }

        _path.Clear();
        return true;
    }

    /// <summary>Adds the unexpired messages matching <paramref name="filter"/> to <paramref name="into"/>.</summary>
    public void Match(string filter, DateTimeOffset now, List<RetainedMessage> into) => Collect(_root, filter, 0, true, now, into);

    /// <summary>Deletes every expired message; returns how many.</summary>
    public int RemoveExpired(DateTimeOffset now)
    {
        _expiredScratch.Clear();
        FindExpired(_root, now, _expiredScratch);
        foreach (string topic in _expiredScratch)
        {
            Remove(topic);
        }

        int removed = _expiredScratch.Count;
        _expiredScratch.Clear();
        return removed;
    }

    private static void Collect(Node node, string filter, int pos, bool atRoot, DateTimeOffset now, List<RetainedMessage> into)
    {
        if (pos > filter.Length)
        {
            Add(node, now, into);
            return;
        }

        int end = LevelEnd(filter, pos);
        ReadOnlySpan<char> level = filter.AsSpan(pos, end - pos);
        if (level is "#")
        {
            // "a/#" matches "a" itself (4.7.1.2); at the root there is no topic to add.
            if (!atRoot)
            {
                Add(node, now, into);
            }

            foreach (KeyValuePair<string, Node> child in node.Children)
            {
                if (!(atRoot && child.Key.StartsWith('$')))
                {
                    AddSubtree(child.Value, now, into);
                }
            }

            return;
        }

        if (level is "+")
        {
            foreach (KeyValuePair<string, Node> child in node.Children)
            {
                if (!(atRoot && child.Key.StartsWith('$')))
                {
                    Collect(child.Value, filter, end + 1, false, now, into);
                }
            }

            return;
        }

        Node? literal = node.Children.Get(level);
        if (literal is not null)
        {
            Collect(literal, filter, end + 1, false, now, into);
        }
    }

    private static void AddSubtree(Node node, DateTimeOffset now, List<RetainedMessage> into)
    {
        Add(node, now, into);
        foreach (KeyValuePair<string, Node> child in node.Children)
        {
            AddSubtree(child.Value, now, into);
        }
    }

    private static void Add(Node node, DateTimeOffset now, List<RetainedMessage> into)
    {
        if (node.Message is not { } message)
        {
            return;
        }

        uint? remaining = MessageExpiry.Remaining(message.MessageExpiryInterval, node.StoredAt, now);
        if (remaining != 0)
        {
            into.Add(new RetainedMessage(message, node.StoredAt, remaining));
        }
    }

    private static void FindExpired(Node node, DateTimeOffset now, List<string> into)
    {
        if (node.Message is { } message && MessageExpiry.IsExpired(message.MessageExpiryInterval, node.StoredAt, now))
        {
            into.Add(message.Topic);
        }

        foreach (KeyValuePair<string, Node> child in node.Children)
        {
            FindExpired(child.Value, now, into);
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

        public MqttApplicationMessage? Message;

        public DateTimeOffset StoredAt;
    }
}
