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
        Assert.Equal(SubscriptionAccess.Allowed, acl.Classify("users/alice/x/inbox"));
        Assert.Equal(SubscriptionAccess.Allowed, acl.Classify("users/alice/+/inbox"));
        Assert.Equal(SubscriptionAccess.Checked, acl.Classify("users/alice/#"));
        Assert.Equal(SubscriptionAccess.Refused, acl.Classify("users/bob/x/inbox"));
    }

    [Fact]
    public void A_rule_naming_the_user_does_not_apply_to_an_anonymous_client()
    {
        var acl = new AclRuleSet([AclRule.Parse("allow * all users/%u/#")], AclPermission.Deny).ForClient("dev-1", identity: null);
        Assert.Equal(SubscriptionAccess.Refused, acl.Classify("users/#"));
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

    // The interop case (issue 11): a deny rule no longer makes every overlapping wildcard unusable.
    [Theory]
    [InlineData("#", SubscriptionAccess.Checked)]
    [InlineData("test/#", SubscriptionAccess.Checked)]
    [InlineData("test/+", SubscriptionAccess.Checked)]
    [InlineData("+/nosubscribe", SubscriptionAccess.Checked)]
    [InlineData("+/x", SubscriptionAccess.Checked)]
    [InlineData("test/nosubscribe", SubscriptionAccess.Refused)]
    [InlineData("test/nosubscribe/deeper", SubscriptionAccess.Allowed)]
    [InlineData("test/other", SubscriptionAccess.Allowed)]
    [InlineData("public/+", SubscriptionAccess.Allowed)]
    [InlineData("secret/#", SubscriptionAccess.Refused)]
    [InlineData("secret", SubscriptionAccess.Refused)]
    [InlineData("secret/a/+", SubscriptionAccess.Refused)]
    [InlineData("$SYS/#", SubscriptionAccess.Allowed)]
    [InlineData("$share/g/#", SubscriptionAccess.Checked)]
    [InlineData("$share/g/secret/x", SubscriptionAccess.Refused)]
    [InlineData("$share/g/public/x", SubscriptionAccess.Allowed)]
    public void With_deny_rules_and_an_allowing_default_only_filters_inside_a_denied_area_are_refused(string filter, SubscriptionAccess expected)
    {
        var acl = new AclRuleSet([AclRule.Parse("deny * subscribe test/nosubscribe"), AclRule.Parse("deny * subscribe secret/#")], AclPermission.Allow).ForClient("dev-1", "alice");
        Assert.Equal(expected, acl.Classify(filter));
    }

    [Theory]
    [InlineData("users/alice/#", SubscriptionAccess.Allowed)]
    [InlineData("users/alice", SubscriptionAccess.Allowed)]
    [InlineData("users/+/inbox", SubscriptionAccess.Checked)]
    [InlineData("users/#", SubscriptionAccess.Checked)]
    [InlineData("#", SubscriptionAccess.Checked)]
    [InlineData("+/+", SubscriptionAccess.Checked)]
    [InlineData("users/bob/#", SubscriptionAccess.Refused)]
    [InlineData("$SYS/#", SubscriptionAccess.Refused)]
    [InlineData("$SYS/broker/uptime", SubscriptionAccess.Refused)]
    public void With_allow_rules_and_a_denying_default_a_filter_partly_allowed_is_granted_and_checked(string filter, SubscriptionAccess expected)
    {
        Assert.Equal(expected, Compile("allow * subscribe users/%u/#", "deny * subscribe $SYS/#").Classify(filter));
    }

    [Theory]
    [InlineData("allow * subscribe #", "#", SubscriptionAccess.Allowed)]
    [InlineData("allow * subscribe #", "$SYS/#", SubscriptionAccess.Refused)]
    [InlineData("allow * subscribe +/x", "+/x", SubscriptionAccess.Allowed)]
    [InlineData("allow * subscribe +/x", "+/+", SubscriptionAccess.Checked)]
    [InlineData("allow * subscribe +/x", "$s/x", SubscriptionAccess.Refused)]
    [InlineData("allow * publish #", "#", SubscriptionAccess.Refused)]
    [InlineData("allow * all $SYS/#", "$SYS/broker/+", SubscriptionAccess.Allowed)]
    public void One_allow_rule_before_a_denying_default(string rule, string filter, SubscriptionAccess expected)
    {
        Assert.Equal(expected, Compile(rule).Classify(filter));
    }

    [Fact]
    public void The_first_rule_that_covers_the_filter_decides_what_earlier_rules_left_open()
    {
        // deny # first: nothing after it can allow anything.
        var denyFirst = new AclRuleSet([AclRule.Parse("deny * subscribe #"), AclRule.Parse("allow * subscribe public/#")], AclPermission.Allow).ForClient("c", null);
        Assert.Equal(SubscriptionAccess.Refused, denyFirst.Classify("public/x"));

        // allow a/b, then deny a/#: a/# is part allowed, part denied.
        var allowFirst = new AclRuleSet([AclRule.Parse("allow * subscribe a/b"), AclRule.Parse("deny * subscribe a/#")], AclPermission.Allow).ForClient("c", null);
        Assert.Equal(SubscriptionAccess.Checked, allowFirst.Classify("a/#"));
        Assert.Equal(SubscriptionAccess.Allowed, allowFirst.Classify("a/b"));
        Assert.Equal(SubscriptionAccess.Refused, allowFirst.Classify("a/c"));
        Assert.True(allowFirst.CanRead("a/b"));
        Assert.False(allowFirst.CanRead("a/c"));
        Assert.True(allowFirst.CanRead("b"));
    }

    [Fact]
    public void Reading_a_delivered_topic_follows_the_subscribe_rules_only()
    {
        var acl = new AclRuleSet([AclRule.Parse("deny * publish test/nosubscribe"), AclRule.Parse("deny * subscribe test/nosubscribe")], AclPermission.Allow).ForClient("c", null);
        Assert.False(acl.CanRead("test/nosubscribe"));
        Assert.True(acl.CanRead("test/nosubscribe/x"));
        Assert.True(acl.CanRead("test/other"));
        Assert.True(new AclRuleSet([AclRule.Parse("deny * publish x")], AclPermission.Allow).ForClient("c", null).CanRead("x"));
    }

    [Fact]
    public void Wildcards_in_the_first_level_do_not_reach_dollar_topics()
    {
        var acl = Compile("allow * all #");
        Assert.False(acl.CanPublish("$SYS/x"));
        Assert.Equal(SubscriptionAccess.Refused, acl.Classify("$SYS/#"));
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

    [Fact]
    public void Classification_never_contradicts_the_read_check_of_any_topic_on_random_rules()
    {
        Gen<string> filterLevel = Gen.Elements("a", "b", "$s", "", "+");
        Gen<string> filter =
            from n in Gen.Choose(1, 3)
            from levels in Gen.ArrayOf(filterLevel, n)
            from hash in Gen.Elements(false, false, true)
            let joined = string.Join('/', hash ? [.. levels[..^1], "#"] : levels)
            select joined.Length == 0 ? "z" : joined;
        Gen<string> rule =
            from permission in Gen.Elements("allow", "deny")
            from action in Gen.Elements("subscribe", "all", "publish")
            from topic in filter
            select $"{permission} * {action} {topic}";
        Gen<(string[] Rules, bool DefaultAllow, string Filter)> cases =
            from rules in Gen.Choose(0, 4).SelectMany(n => Gen.ArrayOf(rule, n))
            from defaultAllow in Gen.Elements(true, false)
            from requested in filter
            select (rules, defaultAllow, requested);
        var allTopics = AllTopics(3);

        Property property = Prop.ForAll(Arb.From(cases), c =>
        {
            var acl = new AclRuleSet(c.Rules.Select(AclRule.Parse).ToList(), c.DefaultAllow ? AclPermission.Allow : AclPermission.Deny).ForClient("c", null);
            var readable = allTopics.Where(t => Matches(c.Filter.Split('/'), t)).Select(t => acl.CanRead(string.Join('/', t))).ToList();

            // Allowed: nothing to filter. Refused: nothing to deliver. Checked is always safe.
            return acl.Classify(c.Filter) switch
            {
                SubscriptionAccess.Allowed => readable.All(r => r),
                SubscriptionAccess.Refused => readable.All(r => !r),
                _ => true,
            };
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(1000), property);
    }

    [Fact]
    public void Topic_matching_on_spans_agrees_with_level_by_level_matching()
    {
        Gen<string> level = Gen.Elements("a", "b", "$s", "");
        Gen<string> filterLevel = Gen.Elements("a", "b", "$s", "", "+");
        Gen<string[]> topic = Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(level, n));
        Gen<string[]> filter =
            from n in Gen.Choose(1, 4)
            from levels in Gen.ArrayOf(filterLevel, n)
            from hash in Gen.Elements(false, false, true)
            select hash ? [.. levels[..^1], "#"] : levels;
        Property property = Prop.ForAll(Arb.From(filter), Arb.From(topic), (f, t) => ClientAcl.MatchesTopic(f, string.Join('/', t)) == Matches(f, t));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(1000), property);
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
