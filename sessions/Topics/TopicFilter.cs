namespace AccessLayer.Sessions.Topics;

/// <summary>
/// MQTT topic filter and topic name rules (MQTT 5.0 section 4.7, shared subscriptions 4.8.2).
/// The gateway validates SUBSCRIBE and PUBLISH with these before it calls the router, which
/// rejects anything else as a programming error.
/// </summary>
public static class TopicFilter
{
    public const string SharePrefix = "$share/";

    /// <summary>The default bound on levels in a filter (it bounds the trie depth, so matching recursion).</summary>
    public const int DefaultMaxLevels = 64;

    /// <summary>
    /// True when <paramref name="filter"/> is a valid filter: non-empty, no U+0000, <c>+</c> and
    /// <c>#</c> each occupying a whole level, <c>#</c> only as the last level, at most
    /// <paramref name="maxLevels"/> levels. A <c>$share/{group}/{filter}</c> form is validated as a whole.
    /// </summary>
    public static bool IsValid(string filter, int maxLevels = DefaultMaxLevels) => TryParse(filter, maxLevels, out _);

    /// <summary>
    /// Validates <paramref name="filter"/> and splits off a shared subscription prefix:
    /// <c>$share/g/a/+</c> gives group <c>g</c> and filter <c>a/+</c>.
    /// </summary>
    public static bool TryParse(string filter, int maxLevels, out ParsedTopicFilter parsed)
    {
        parsed = default;
        if (string.IsNullOrEmpty(filter))
        {
            return false;
        }

        string? group = null;
        string inner = filter;
        if (filter.StartsWith(SharePrefix, StringComparison.Ordinal))
        {
            int slash = filter.IndexOf('/', SharePrefix.Length);
            if (slash < 0)
            {
                return false;
            }

            ReadOnlySpan<char> name = filter.AsSpan(SharePrefix.Length, slash - SharePrefix.Length);
            if (name.IsEmpty || name.ContainsAny('+', '#') || name.Contains('\0'))
            {
                return false;
            }

            group = name.ToString();
            inner = filter[(slash + 1)..];
            if (inner.Length == 0)
            {
                return false;
            }
        }
        else if (filter == "$share")
        {
            return false;
        }

        if (!IsValidPlainFilter(inner, maxLevels))
        {
            return false;
        }

        parsed = new ParsedTopicFilter(inner, group);
        return true;
    }

    /// <summary>True for a valid topic name: non-empty, no wildcards, no U+0000.</summary>
    public static bool IsValidTopicName(ReadOnlySpan<char> topic) =>
        !topic.IsEmpty && !topic.ContainsAny('+', '#', '\0');

    /// <summary>Number of levels in a topic or filter (<c>a//b</c> has three).</summary>
    public static int CountLevels(ReadOnlySpan<char> topicOrFilter) => topicOrFilter.Count('/') + 1;

    private static bool IsValidPlainFilter(string filter, int maxLevels)
    {
        int levels = 0;
        int pos = 0;
        while (pos <= filter.Length)
        {
            if (++levels > maxLevels)
            {
                return false;
            }

            int slash = filter.IndexOf('/', pos);
            int end = slash < 0 ? filter.Length : slash;
            ReadOnlySpan<char> level = filter.AsSpan(pos, end - pos);
            if (level.Contains('\0'))
            {
                return false;
            }

            if (level.ContainsAny('+', '#'))
            {
                if (level.Length != 1)
                {
                    return false;
                }

                if (level[0] == '#' && end != filter.Length)
                {
                    return false;
                }
            }

            pos = end + 1;
        }

        return true;
    }
}
