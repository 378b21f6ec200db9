using System.Diagnostics.CodeAnalysis;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Topic name and topic filter rules (spec 4.7), shared subscriptions (spec 4.8.2).</summary>
public static class MqttTopic
{
    public const string SharedPrefix = "$share/";

    private const int MaxUtf8Bytes = ushort.MaxValue;

    /// <summary>
    /// A topic a PUBLISH may name: non-empty, no wildcards, no U+0000, well-formed, at most 65535 UTF-8 bytes.
    /// (A 5.0 PUBLISH with a topic alias may carry an empty name; check that case before calling.)
    /// </summary>
    public static bool IsValidTopicName(ReadOnlySpan<char> topicName) =>
        !topicName.IsEmpty && topicName.IndexOfAny('+', '#') < 0 && IsValidString(topicName);

    public static bool IsValidTopicName([NotNullWhen(true)] string? topicName) => topicName is not null && IsValidTopicName(topicName.AsSpan());

    /// <summary>The same rule over received UTF-8 (assumed already UTF-8 validated); an empty name is allowed here only when <paramref name="allowEmpty"/>.</summary>
    public static bool IsValidTopicName(ReadOnlySpan<byte> utf8TopicName, bool allowEmpty = false) =>
        (allowEmpty || !utf8TopicName.IsEmpty) && utf8TopicName.Length <= MaxUtf8Bytes && utf8TopicName.IndexOfAny((byte)'+', (byte)'#') < 0;

    /// <summary>
    /// A filter a SUBSCRIBE may carry: non-empty, <c>#</c> only as the whole last level, <c>+</c> only as a
    /// whole level, and for <c>$share/{group}/{filter}</c> a non-empty group without wildcards or '/'
    /// followed by a non-empty valid filter.
    /// </summary>
    public static bool IsValidTopicFilter(ReadOnlySpan<char> topicFilter)
    {
        if (topicFilter.IsEmpty || !IsValidString(topicFilter))
        {
            return false;
        }

        if (topicFilter.StartsWith(SharedPrefix, StringComparison.Ordinal))
        {
            return TrySplitShared(topicFilter, out _, out _);
        }

        return HasValidLevels(topicFilter);
    }

    public static bool IsValidTopicFilter([NotNullWhen(true)] string? topicFilter) => topicFilter is not null && IsValidTopicFilter(topicFilter.AsSpan());

    /// <summary>True for a well-formed <c>$share/{group}/{filter}</c>; false for any other filter, valid or not.</summary>
    public static bool TryParseSharedSubscription(string topicFilter, [NotNullWhen(true)] out string? group, [NotNullWhen(true)] out string? filter)
    {
        ArgumentNullException.ThrowIfNull(topicFilter);
        if (topicFilter.StartsWith(SharedPrefix, StringComparison.Ordinal)
            && IsValidString(topicFilter)
            && TrySplitShared(topicFilter, out var groupSpan, out var filterSpan))
        {
            group = groupSpan.ToString();
            filter = filterSpan.ToString();
            return true;
        }

        group = null;
        filter = null;
        return false;
    }

    /// <summary>True when the filter contains <c>+</c> or <c>#</c> (wildcard subscriptions may be disabled).</summary>
    public static bool HasWildcards(ReadOnlySpan<char> topicFilter) => topicFilter.IndexOfAny('+', '#') >= 0;

    public static bool IsSharedSubscription(ReadOnlySpan<char> topicFilter) => topicFilter.StartsWith(SharedPrefix, StringComparison.Ordinal);

    private static bool TrySplitShared(ReadOnlySpan<char> topicFilter, out ReadOnlySpan<char> group, out ReadOnlySpan<char> filter)
    {
        var rest = topicFilter[SharedPrefix.Length..];
        var slash = rest.IndexOf('/');
        group = default;
        filter = default;
        if (slash <= 0)
        {
            return false;
        }

        group = rest[..slash];
        filter = rest[(slash + 1)..];
        return group.IndexOfAny('+', '#') < 0 && !filter.IsEmpty && HasValidLevels(filter);
    }

    private static bool HasValidLevels(ReadOnlySpan<char> filter)
    {
        for (var i = 0; i < filter.Length; i++)
        {
            var c = filter[i];
            if (c is not ('+' or '#'))
            {
                continue;
            }

            var startsLevel = i == 0 || filter[i - 1] == '/';
            var endsLevel = i == filter.Length - 1 || filter[i + 1] == '/';
            if (!startsLevel || !endsLevel || (c == '#' && i != filter.Length - 1))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Well-formed UTF-16 (no lone surrogates), no U+0000, and at most 65535 bytes once UTF-8 encoded.</summary>
    private static bool IsValidString(ReadOnlySpan<char> value)
    {
        if (value.Length > MaxUtf8Bytes)
        {
            return false;
        }

        var bytes = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c < 0x80)
            {
                if (c == '\0')
                {
                    return false;
                }

                bytes++;
            }
            else if (c < 0x800)
            {
                bytes += 2;
            }
            else if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1]))
                {
                    return false;
                }

                i++;
                bytes += 4;
            }
            else if (char.IsLowSurrogate(c))
            {
                return false;
            }
            else
            {
                bytes += 3;
            }
        }

        return bytes <= MaxUtf8Bytes;
    }
}
