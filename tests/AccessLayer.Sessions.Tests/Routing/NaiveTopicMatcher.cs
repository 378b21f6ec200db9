namespace AccessLayer.Sessions.Tests.Routing;

/// <summary>The textbook matcher (split both, compare level by level), the reference the trie is checked against.</summary>
internal static class NaiveTopicMatcher
{
    public static bool Matches(string filter, string topic)
    {
        if (topic.StartsWith('$') && (filter.StartsWith('+') || filter.StartsWith('#')))
        {
            return false;
        }

        string[] f = filter.Split('/');
        string[] t = topic.Split('/');
        for (int i = 0; i < f.Length; i++)
        {
            if (f[i] == "#")
            {
                return true;
            }

            if (i >= t.Length || (f[i] != "+" && f[i] != t[i]))
            {
                return false;
            }
        }

        return f.Length == t.Length;
    }
}
