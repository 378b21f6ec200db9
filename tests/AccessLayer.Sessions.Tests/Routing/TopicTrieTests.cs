using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions.Routing;
using AccessLayer.Sessions.Topics;
using FsCheck;
using FsCheck.Fluent;

namespace AccessLayer.Sessions.Tests.Routing;

public class TopicTrieTests
{
    private static readonly SubscriptionOptions Qos1 = new(MqttQualityOfService.AtLeastOnce);

    [Theory]
    // 4.7.1.2 multi-level wildcard
    [InlineData("sport/tennis/player1/#", "sport/tennis/player1", true)]
    [InlineData("sport/tennis/player1/#", "sport/tennis/player1/ranking", true)]
    [InlineData("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true)]
    [InlineData("sport/tennis/player1/#", "sport/tennis/player2", false)]
    [InlineData("sport/#", "sport", true)]
    [InlineData("#", "sport/tennis/player1", true)]
    [InlineData("#", "/", true)]
    // 4.7.1.3 single-level wildcard
    [InlineData("sport/tennis/+", "sport/tennis/player1", true)]
    [InlineData("sport/tennis/+", "sport/tennis/player2", true)]
    [InlineData("sport/tennis/+", "sport/tennis/player1/ranking", false)]
    [InlineData("sport/+", "sport", false)]
    [InlineData("sport/+", "sport/", true)]
    [InlineData("sport/+", "sport/tennis/player1", false)]
    [InlineData("+/+", "/finance", true)]
    [InlineData("/+", "/finance", true)]
    [InlineData("+", "/finance", false)]
    [InlineData("+/tennis/#", "sport/tennis", true)]
    [InlineData("+/tennis/#", "sport/tennis/player1/ranking", true)]
    [InlineData("+/tennis/#", "sport/golf", false)]
    // 4.7.2 topics beginning with $
    [InlineData("#", "$SYS/monitor/Clients", false)]
    [InlineData("+/monitor/Clients", "$SYS/monitor/Clients", false)]
    [InlineData("$SYS/#", "$SYS/monitor/Clients", true)]
    [InlineData("$SYS/#", "$SYS", true)]
    [InlineData("$SYS/monitor/+", "$SYS/monitor/Clients", true)]
    [InlineData("+", "$SYS", false)]
    [InlineData("a/+/#", "a/$x/y", true)]
    // 4.7.3 case sensitive, spaces allowed, literal compare
    [InlineData("ACCOUNTS", "Accounts", false)]
    [InlineData("Accounts payable", "Accounts payable", true)]
    [InlineData("a//b", "a//b", true)]
    [InlineData("a/+/b", "a//b", true)]
    [InlineData("a/b", "a/b/", false)]
    public void Match_follows_spec_wildcard_examples(string filter, string topic, bool expected)
    {
        var trie = new TopicTrie();
        trie.Add(Parse(filter), "c", Qos1);

        Assert.Equal(expected, MatchIds(trie, topic).Contains("c"));
        Assert.Equal(expected, NaiveTopicMatcher.Matches(filter, topic));
    }

    [Fact]
    public void Match_finds_every_overlapping_filter_once()
    {
        var trie = new TopicTrie();
        string[] filters = ["sport/tennis/player1", "sport/tennis/+", "sport/#", "+/tennis/player1", "#", "sport/+/+", "sport/tennis/player1/#", "sport/golf/#"];
        foreach (string filter in filters)
        {
            trie.Add(Parse(filter), filter, Qos1);
        }

        List<string> matched = MatchIds(trie, "sport/tennis/player1");

        Assert.Equal(filters.Where(f => f != "sport/golf/#").Order(), matched.Order());
    }

    [Fact]
    public void Add_same_client_and_filter_replaces_options()
    {
        var trie = new TopicTrie();
        Assert.True(trie.Add(Parse("a/b"), "c", Qos1));
        Assert.False(trie.Add(Parse("a/b"), "c", new SubscriptionOptions(MqttQualityOfService.ExactlyOnce)));
        Assert.Equal(1, trie.Count);

        var matches = new SubscriberMatches();
        trie.Match("a/b", null, matches);
        matches.Complete();
        Assert.Equal(MqttQualityOfService.ExactlyOnce, Assert.Single(matches.AsSpan().ToArray()).MaximumQualityOfService);
    }

    [Fact]
    public void Remove_prunes_nodes_so_later_matches_find_nothing()
    {
        var trie = new TopicTrie();
        trie.Add(Parse("a/b/c"), "c1", Qos1);
        trie.Add(Parse("a/+/c"), "c2", Qos1);
        trie.Add(Parse("a/#"), "c3", Qos1);

        Assert.True(trie.Remove(Parse("a/b/c"), "c1"));
        Assert.False(trie.Remove(Parse("a/b/c"), "c1"));
        Assert.False(trie.Remove(Parse("a/+/c"), "other"));
        Assert.True(trie.Remove(Parse("a/+/c"), "c2"));
        Assert.Equal(["c3"], MatchIds(trie, "a/b/c"));
        Assert.True(trie.Remove(Parse("a/#"), "c3"));
        Assert.Empty(MatchIds(trie, "a/b/c"));
        Assert.Equal(0, trie.Count);

        // The pruned path can be rebuilt.
        trie.Add(Parse("a/b/c"), "c1", Qos1);
        Assert.Equal(["c1"], MatchIds(trie, "a/b/c"));
    }

    [Fact]
    public void Match_skips_no_local_subscription_of_the_publisher_only()
    {
        var trie = new TopicTrie();
        var noLocal = new SubscriptionOptions(MqttQualityOfService.AtLeastOnce, NoLocal: true);
        trie.Add(Parse("chat/#"), "alice", noLocal);
        trie.Add(Parse("chat/#"), "bob", noLocal);

        var matches = new SubscriberMatches();
        trie.Match("chat/room", "alice", matches);
        matches.Complete();

        Assert.Equal(["bob"], matches.AsSpan().ToArray().Select(m => m.ClientId));
    }

    [Fact]
    public void Match_picks_one_member_per_share_group()
    {
        var trie = new TopicTrie();
        trie.Add(Parse("$share/g1/jobs/+"), "w1", Qos1);
        trie.Add(Parse("$share/g1/jobs/+"), "w2", Qos1);
        trie.Add(Parse("$share/g2/jobs/#"), "x1", Qos1);

        var matches = new SubscriberMatches();
        trie.Match("jobs/42", null, matches);
        matches.Complete();

        SubscriberMatch[] all = matches.AsSpan().ToArray();
        Assert.Equal(2, all.Length);
        Assert.Contains(all, m => m.ShareGroup == "g1" && m.ClientId is "w1" or "w2");
        Assert.Contains(all, m => m.ShareGroup == "g2" && m.ClientId == "x1");
    }

    [Fact]
    public void Match_property_agrees_with_naive_matcher_on_random_filters_and_topics()
    {
        Gen<string> topic = TopicGenerators.Topic;
        Gen<string> filter = TopicGenerators.Filter;
        Gen<(string[] Filters, string[] Topics)> scenario =
            from filters in Gen.Choose(1, 25).SelectMany(n => Gen.ArrayOf(filter, n))
            from topics in Gen.Choose(1, 10).SelectMany(n => Gen.ArrayOf(topic, n))
            select (filters, topics);

        Property property = Prop.ForAll(Arb.From(scenario), s =>
        {
            var trie = new TopicTrie();
            for (int i = 0; i < s.Filters.Length; i++)
            {
                trie.Add(Parse(s.Filters[i]), $"c{i}", Qos1);
            }

            foreach (string t in s.Topics)
            {
                var expected = Enumerable.Range(0, s.Filters.Length).Where(i => NaiveTopicMatcher.Matches(s.Filters[i], t)).Select(i => $"c{i}").Order().ToList();
                if (!expected.SequenceEqual(MatchIds(trie, t).Order()))
                {
                    return false;
                }
            }

            return true;
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), property);
    }

    private static ParsedTopicFilter Parse(string filter)
    {
        Assert.True(TopicFilter.TryParse(filter, 64, out ParsedTopicFilter parsed), filter);
        return parsed;
    }

    private static List<string> MatchIds(TopicTrie trie, string topic)
    {
        var matches = new SubscriberMatches();
        trie.Match(topic, null, matches);
        matches.Complete();
        return matches.AsSpan().ToArray().Select(m => m.ClientId).ToList();
    }
}
