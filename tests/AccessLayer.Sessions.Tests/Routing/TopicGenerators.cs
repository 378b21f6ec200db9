using FsCheck;
using FsCheck.Fluent;

namespace AccessLayer.Sessions.Tests.Routing;

/// <summary>Random topics and filters for the property tests that compare a matcher with <see cref="NaiveTopicMatcher"/>.</summary>
internal static class TopicGenerators
{
    // A small alphabet makes collisions (and so real matches) common; "$s" exercises the $ rule, "" empty levels.
    private static readonly Gen<string> TopicLevel = Gen.Elements("a", "b", "$s", "");
    private static readonly Gen<string> FilterLevel = Gen.Elements("a", "b", "$s", "", "+");

    public static Gen<string> Topic { get; } =
        Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(TopicLevel, n)).Select(levels => string.Join('/', levels)).Where(t => t.Length > 0);

    public static Gen<string> Filter { get; } =
        from n in Gen.Choose(1, 4)
        from levels in Gen.ArrayOf(FilterLevel, n)
        from hash in Gen.Elements(false, false, true)
        let text = hash ? string.Join('/', levels[..^1].Append("#")) : string.Join('/', levels)
        where text.Length > 0
        select text;
}
