using AccessLayer.Sessions.Topics;

namespace AccessLayer.Sessions.Tests.Topics;

public class TopicFilterTests
{
    [Theory]
    [InlineData("sport/tennis/player1")]
    [InlineData("sport/tennis/player1/#")]
    [InlineData("sport/#")]
    [InlineData("#")]
    [InlineData("+")]
    [InlineData("+/tennis/#")]
    [InlineData("sport/+/player1")]
    [InlineData("/finance")]
    [InlineData("a//b")]
    [InlineData("$SYS/#")]
    [InlineData("$share/group/a/+")]
    [InlineData("$share/g/#")]
    public void IsValid_accepts_spec_filters(string filter) => Assert.True(TopicFilter.IsValid(filter));

    [Theory]
    [InlineData("")]
    [InlineData("sport/tennis#")]
    [InlineData("sport/tennis/#/ranking")]
    [InlineData("sport+")]
    [InlineData("sport/+x/a")]
    [InlineData("a/\0")]
    [InlineData("$share")]
    [InlineData("$share/")]
    [InlineData("$share/group")]
    [InlineData("$share/group/")]
    [InlineData("$share//a")]
    [InlineData("$share/gr+oup/a")]
    [InlineData("$share/gr#oup/a")]
    [InlineData("$share/g/a/#/b")]
    public void IsValid_rejects_malformed_filters(string filter) => Assert.False(TopicFilter.IsValid(filter));

    [Fact]
    public void TryParse_splits_share_group_from_filter()
    {
        Assert.True(TopicFilter.TryParse("$share/consumers/sport/+/score", 10, out ParsedTopicFilter parsed));
        Assert.Equal("consumers", parsed.ShareGroup);
        Assert.Equal("sport/+/score", parsed.Filter);
        Assert.True(parsed.IsShared);
    }

    [Fact]
    public void TryParse_leaves_plain_filter_unshared()
    {
        Assert.True(TopicFilter.TryParse("sport/#", 10, out ParsedTopicFilter parsed));
        Assert.Null(parsed.ShareGroup);
        Assert.Equal("sport/#", parsed.Filter);
    }

    [Fact]
    public void TryParse_rejects_more_levels_than_the_bound()
    {
        Assert.True(TopicFilter.TryParse("a/b/c", 3, out _));
        Assert.False(TopicFilter.TryParse("a/b/c/d", 3, out _));
        Assert.False(TopicFilter.TryParse("$share/g/a/b/c/d", 3, out _));
    }

    [Theory]
    [InlineData("sport/tennis", true)]
    [InlineData("/", true)]
    [InlineData("$SYS/broker", true)]
    [InlineData("", false)]
    [InlineData("sport/+", false)]
    [InlineData("sport/#", false)]
    [InlineData("a\0b", false)]
    public void IsValidTopicName_refuses_wildcards_and_empty(string topic, bool valid) =>
        Assert.Equal(valid, TopicFilter.IsValidTopicName(topic));

    [Theory]
    [InlineData("a", 1)]
    [InlineData("a/b", 2)]
    [InlineData("/", 2)]
    [InlineData("a//b/", 4)]
    public void CountLevels_counts_empty_levels(string topic, int levels) => Assert.Equal(levels, TopicFilter.CountLevels(topic));
}
