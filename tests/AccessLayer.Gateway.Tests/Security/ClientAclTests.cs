using AccessLayer.Gateway.Security;
using FsCheck;
using FsCheck.Fluent;

namespace AccessLayer.Gateway.Tests.Security;

public sealed class ClientAclTests
{
    private static ClientAcl Compile(params string[] rules) =>
        new AclRuleSet(rules.Select(AclRule.Parse).ToList(), AclPermission.Deny).ForClient("dev-1", "alice");

    [Fact]
    public void First_matching_rule_wins_and_the_default_applies_when_none_matches()
    {
        var acl = Compile("deny * publish a/secret", "allow * publish a/#");
        Assert.False(acl.CanPublish("a/secret"));
        Assert.True(acl.CanPublish("a/open"));
        Assert.True(acl.CanPublish("a"));
        Assert.False(acl.CanPublish("b"));
    }

    [Fact]
    public void Client_id_and_user_are_substituted_into_rules()
    {
        var acl = Compile("allow * publish up/%c", "allow * subscribe users/%u/+/inbox");
        Assert.True(acl.CanPublish("up/dev-1"));
        Assert.False(acl.CanPublish("up/dev-2"));
        Assert.True(acl.CanSubscribe("users/alice/x/inbox"));
        Assert.True(acl.CanSubscribe("users/alice/+/inbox"));
        Assert.False(acl.CanSubscribe("users/alice/#"));
        Assert.False(acl.CanSubscribe("users/bob/x/inbox"));
    }

    [Fact]
    public void A_rule_naming_the_user_does_not_apply_to_an_anonymous_client()
    {
        var acl = new AclRuleSet([AclRule.Parse("allow * all users/%u/#")], AclPermission.Deny).ForClient("dev-1", identity: null);
        Assert.False(acl.CanSubscribe("users/#"));
        Assert.False(acl.CanPublish("users/x"));
    }

    [Theory]
    [InlineData("a+b")]
    [InlineData("a#")]
    [InlineData("a/b")]
    public void A_client_id_with_a_wildcard_or_separator_never_widens_a_rule(string clientId)
    {
        var acl = new AclRuleSet([AclRule.Parse("allow * publish up/%c")], AclPermission.Deny).ForClient(clientId, null);
        Assert.False(acl.CanPublish("up/a/b"));
        Assert.False(acl.CanPublish("up/x"));
    }

    [Fact]
    public void Deny_rules_catch_any_overlapping_subscription_but_allow_rules_must_cover_it()
    {
        var acl = Compile("deny * subscribe secret/#", "allow * subscribe #");
        Assert.False(acl.CanSubscribe("#"));
        Assert.False(acl.CanSubscribe("+/plans"));
        Assert.True(acl.CanSubscribe("public/+"));
        Assert.False(acl.CanSubscribe("$share/g/secret/x"));
        Assert.True(acl.CanSubscribe("$share/g/public/x"));
    }

    [Fact]
    public void Wildcards_in_the_first_level_do_not_reach_dollar_topics()
    {
        var acl = Compile("allow * all #");
        Assert.False(acl.CanPublish("$SYS/x"));
        Assert.False(acl.CanSubscribe("$SYS/#"));
        Assert.True(acl.CanPublish("x"));
    }

    [Fact]
    public void Rules_for_one_user_or_client_apply_to_nobody_else()
    {
        var rules = new AclRuleSet([AclRule.Parse("allow user:ops all #"), AclRule.Parse("allow client:dev-9 publish x")], AclPermission.Deny);
        Assert.True(rules.ForClient("c", "ops").CanPublish("a"));
        Assert.False(rules.ForClient("c", "alice").CanPublish("a"));
        Assert.True(rules.ForClient("dev-9", null).CanPublish("x"));
        Assert.False(rules.ForClient("dev-8", null).CanPublish("x"));
    }

    [Fact]
    public void Decisions_are_cached_per_topic_without_changing_them()
    {
        var acl = Compile("allow * publish a/+");
        for (var i = 0; i < 300; i++)
        {
            Assert.True(acl.CanPublish("a/" + (i % 200)));
            Assert.False(acl.CanPublish("b/" + (i % 200)));
        }
    }

    [Fact]
    public void Overlap_and_cover_agree_with_topic_matching_on_random_filters()
    {
        Gen<string> level = Gen.Elements("a", "b", "$s", "");
        Gen<string> filterLevel = Gen.Elements("a", "b", "$s", "", "+");
        Gen<string[]> topic = Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(level, n));
        Gen<string[]> filter =
            from n in Gen.Choose(1, 4)
            from levels in Gen.ArrayOf(filterLevel, n)
            from hash in Gen.Elements(false, false, true)
            select hash ? [.. levels[..^1], "#"] : levels;
        var allTopics = AllTopics(4);

        Property property = Prop.ForAll(Arb.From(filter), Arb.From(filter), Arb.From(topic), (a, b, t) =>
        {
            // For a plain topic, overlap is matching.
            if (ClientAcl.Overlaps(a, t) != Matches(a, t))
            {
                return false;
            }

            // Cover: every topic b matches, a matches. Overlap: some topic matches both.
            var covers = allTopics.Where(x => Matches(b, x)).All(x => Matches(a, x));
            var overlaps = allTopics.Any(x => Matches(a, x) && Matches(b, x));
            return (!ClientAcl.Covers(a, b) || covers) && ClientAcl.Overlaps(a, b) == overlaps;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), property);
    }

    /// <summary>Every topic over the alphabet up to <paramref name="depth"/> levels, plus one deeper, so '#' sees its whole subtree.</summary>
    private static List<string[]> AllTopics(int depth)
    {
        string[] alphabet = ["a", "b", "$s", "", "z"];
        var all = new List<string[]>();
        var frontier = new List<string[]> { Array.Empty<string>() };
        for (var d = 1; d <= depth + 1; d++)
        {
            frontier = [.. frontier.SelectMany(prefix => alphabet.Select(l => (string[])[.. prefix, l]))];
            all.AddRange(frontier);
        }

        return all;
    }

    private static bool Matches(string[] filter, string[] topic)
    {
        for (var i = 0; i < filter.Length; i++)
        {
            if (filter[i] == "#")
            {
                return !(i == 0 && topic[0].StartsWith('$'));
            }

            if (i >= topic.Length)
            {
                return false;
            }

            if (filter[i] == "+")
            {
                if (i == 0 && topic[0].StartsWith('$'))
                {
                    return false;
                }

                continue;
            }

            if (filter[i] != topic[i])
            {
                return false;
            }
        }

        return filter.Length == topic.Length;
    }
}
