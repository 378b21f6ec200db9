namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// An app version range of a gray rule: <c>"&gt;=5.2.0 &lt;6.0.0"</c> (each bound optional; operators &gt;= &gt; &lt;= &lt; =).
/// Versions compare numerically part by part (<c>5.10</c> &gt; <c>5.9</c>); missing parts are 0.
/// </summary>
internal sealed class AppVersionRange
{
    private readonly List<(Op Op, int[] Version)> _bounds = [];

    private enum Op
    {
        Equal,
        Above,
        AtLeast,
        Below,
        AtMost,
    }

    private AppVersionRange()
    {
    }

    public static bool TryParse(string text, out AppVersionRange range)
    {
        range = new AppVersionRange();
        foreach (var part in text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (op, skip) = part switch
            {
                _ when part.StartsWith(">=", StringComparison.Ordinal) => (Op.AtLeast, 2),
                _ when part.StartsWith("<=", StringComparison.Ordinal) => (Op.AtMost, 2),
                _ when part[0] == '>' => (Op.Above, 1),
                _ when part[0] == '<' => (Op.Below, 1),
                _ when part[0] == '=' => (Op.Equal, 1),
                _ => (Op.Equal, 0),
            };
            if (!TryParseVersion(part[skip..], out var parsed))
            {
                return false;
            }

            range._bounds.Add((op, parsed));
        }

        return range._bounds.Count > 0;
    }

    public bool Contains(ReadOnlySpan<char> version)
    {
        Span<int> parts = stackalloc int[8];
        if (!TryParseVersion(version, parts, out var count))
        {
            return false;
        }

        foreach (var (op, bound) in _bounds)
        {
            var c = Compare(parts[..count], bound);
            var ok = op switch
            {
                Op.AtLeast => c >= 0,
                Op.Above => c > 0,
                Op.AtMost => c <= 0,
                Op.Below => c < 0,
                _ => c == 0,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static int Compare(ReadOnlySpan<int> a, int[] b)
    {
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var x = i < a.Length ? a[i] : 0;
            var y = i < b.Length ? b[i] : 0;
            if (x != y)
            {
                return x < y ? -1 : 1;
            }
        }

        return 0;
    }

    private static bool TryParseVersion(string text, out int[] version)
    {
        Span<int> parts = stackalloc int[8];
        if (!TryParseVersion(text, parts, out var count))
        {
            version = [];
            return false;
        }

        version = parts[..count].ToArray();
        return true;
    }

    private static bool TryParseVersion(ReadOnlySpan<char> text, Span<int> parts, out int count)
    {
        count = 0;
        foreach (var range in text.Split('.'))
        {
            if (count == parts.Length || !int.TryParse(text[range], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out parts[count]))
            {
                return false;
            }

            count++;
        }

        return count > 0;
    }
}
