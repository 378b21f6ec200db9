using AccessLayer.Bots.Cli;
using AccessLayer.Bots.Scenarios;

namespace AccessLayer.Bots.Tests.Scenarios;

public sealed class ScenarioPlanTests
{
    private static ScenarioPlan Plan(ScenarioKind kind, int count = 3, int members = 2) =>
        ScenarioPlan.For(new BotOptions { Scenario = kind, Count = count, Members = members, TopicPrefix = "t" });

    [Fact]
    public void P2p_pairs_each_publisher_with_its_own_subscriber()
    {
        var plan = Plan(ScenarioKind.P2p);
        Assert.Equal(3, plan.Publishers.Count);
        Assert.Equal(plan.Publishers.Select(p => p.Topic), plan.Subscribers.Select(s => s.Filter));
        Assert.Equal(3, plan.Publishers.Select(p => p.Topic).Distinct().Count());
        Assert.Equal(1, plan.ReceiversOf(1, [true, true, false]));
        Assert.Equal(0, plan.ReceiversOf(2, [true, true, false]));
    }

    [Fact]
    public void Fan_in_has_one_wildcard_subscriber()
    {
        var plan = Plan(ScenarioKind.FanIn, count: 5);
        Assert.Equal(5, plan.Publishers.Count);
        Assert.Equal("t/in/+", Assert.Single(plan.Subscribers).Filter);
        Assert.Equal(1, plan.ReceiversOf(4, [true]));
    }

    [Fact]
    public void Fan_out_reaches_every_subscribed_subscriber()
    {
        var plan = Plan(ScenarioKind.FanOut, count: 4);
        Assert.Single(plan.Publishers);
        Assert.Equal(4, plan.Subscribers.Count);
        Assert.Equal(3, plan.ReceiversOf(0, [true, false, true, true]));
    }

    [Fact]
    public void Shared_members_subscribe_one_share_group_and_each_message_reaches_one()
    {
        var plan = Plan(ScenarioKind.Shared, count: 4, members: 3);
        Assert.Equal(3, plan.Subscribers.Count);
        Assert.All(plan.Subscribers, s => Assert.Equal("$share/bots/t/shared/+", s.Filter));
        Assert.Equal(1, plan.ReceiversOf(2, [false, true, false]));
    }

    [Fact]
    public void Pub_uses_the_topic_pattern_and_cannot_know_its_receivers()
    {
        var plan = ScenarioPlan.For(new BotOptions { Scenario = ScenarioKind.Pub, Count = 2, Topic = "x/{i}/y" });
        Assert.Equal(["x/0/y", "x/1/y"], plan.Publishers.Select(p => p.Topic));
        Assert.Equal(-1, plan.ReceiversOf(0, []));
    }

    [Fact]
    public void Client_ids_are_unique()
    {
        var plan = Plan(ScenarioKind.P2p, count: 50);
        var ids = plan.Publishers.Select(p => p.ClientId).Concat(plan.Subscribers.Select(s => s.ClientId)).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void Conn_is_not_a_messaging_plan() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Plan(ScenarioKind.Conn));
}
