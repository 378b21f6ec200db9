using AccessLayer.Protocol.Mqtt;
using AccessLayer.SessionGrains.Forwarding;
using AccessLayer.SessionGrains.Routes;
using AccessLayer.Sessions;
using AccessLayer.Sessions.Routing;
using AccessLayer.Sessions.Store;
using Microsoft.Extensions.Options;

namespace AccessLayer.SessionGrains.Tests.Routes;

public sealed class RouteTableTests
{
    private const string Self = "self";

    [Fact]
    public void Peers_hear_only_of_the_first_local_subscriber_and_the_last_one_leaving()
    {
        using var table = NewTable();

        var first = table.AddLocal(Self, "a/#");
        var second = table.AddLocal(Self, "a/#");
        var oneLeaves = table.RemoveLocal(Self, "a/#");
        var lastLeaves = table.RemoveLocal(Self, "a/#");
        var unknown = table.RemoveLocal(Self, "a/#");

        Assert.Equal(1, first);
        Assert.Equal(0, second);
        Assert.Equal(0, oneLeaves);
        Assert.Equal(2, lastLeaves);
        Assert.Equal(0, unknown);
    }

    [Fact]
    public void A_snapshot_holds_the_local_rows_and_durable_rows_with_their_version()
    {
        using var table = NewTable();
        table.AddLocal(Self, "a/#");
        table.AddLocal(Self, "b");
        table.RemoveLocal(Self, "b");
        var subscriptions = new[] { new Subscription("d/+", new SubscriptionOptions(MqttQualityOfService.AtLeastOnce)) };
        table.SetLocalDurable("c1", FleetCodec.EncodeSubscriptions(subscriptions), subscriptions);

        var snapshot = table.Snapshot(Self);

        Assert.True(snapshot.IsSnapshot);
        Assert.Equal(Self, snapshot.FromNode);
        Assert.Equal(4, snapshot.Version);
        Assert.Equal(["a/#"], snapshot.Added);
        Assert.Equal("c1", Assert.Single(snapshot.Durable).ClientId);
    }

    [Fact]
    public void A_peer_delta_older_than_what_was_applied_changes_nothing()
    {
        using var table = NewTable();
        table.Apply(Delta("p1", 2, added: ["x/1"]), Decode);
        table.Apply(Delta("p1", 1, removed: ["x/1"]), Decode);

        Assert.Equal(["p1"], MatchNodes(table, "x/1"));
    }

    [Fact]
    public void A_peer_snapshot_replaces_every_row_of_that_peer_only()
    {
        using var table = NewTable();
        table.Apply(Delta("p1", 1, added: ["x/1", "y/1"]), Decode);
        table.Apply(Delta("p2", 1, added: ["y/1"]), Decode);

        table.Apply(new RouteUpdate("p1", 5, IsSnapshot: true, ["z/1"], [], []), Decode);

        Assert.Empty(MatchNodes(table, "x/1"));
        Assert.Equal(["p2"], MatchNodes(table, "y/1"));
        Assert.Equal(["p1"], MatchNodes(table, "z/1"));
    }

    [Fact]
    public void A_departed_node_loses_its_rows_but_its_sessions_keep_their_durable_rows()
    {
        using var table = NewTable();
        var subscriptions = new[] { new Subscription("k/#", new SubscriptionOptions(MqttQualityOfService.AtLeastOnce)) };
        table.Apply(new RouteUpdate("p1", 1, IsSnapshot: false, ["k/#"], [], [new DurableSubscriptionRow("c1", FleetCodec.EncodeSubscriptions(subscriptions))]), Decode);

        table.RemoveNode("p1");

        Assert.Empty(MatchNodes(table, "k/1"));
        var durable = new SubscriberMatches();
        table.MatchDurable("k/1", publisherClientId: null, durable);
        Assert.Equal("c1", Assert.Single(durable.AsSpan().ToArray()).ClientId);
    }

    [Fact]
    public void A_shared_group_on_several_nodes_goes_to_one_node_per_message_in_turn()
    {
        using var table = NewTable();
        table.AddLocal(Self, "$share/g/s/#");
        table.Apply(Delta("p1", 1, added: ["$share/g/s/#"]), Decode);

        var picked = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var matches = new SubscriberMatches();
            table.MatchNodes("s/1", matches);
            var match = Assert.Single(matches.AsSpan().ToArray());
            Assert.Equal("g", match.ShareGroup);
            picked.Add(match.ClientId);
        }

        Assert.Equal(2, picked.Count(n => n == Self));
        Assert.Equal(2, picked.Count(n => n == "p1"));
    }

    [Fact]
    public void Durable_matches_apply_no_local()
    {
        using var table = NewTable();
        var subscriptions = new[] { new Subscription("n/#", new SubscriptionOptions(MqttQualityOfService.AtLeastOnce, NoLocal: true)) };
        table.LoadDurable("c1", subscriptions);

        var fromItself = new SubscriberMatches();
        table.MatchDurable("n/1", "c1", fromItself);
        var fromAnother = new SubscriberMatches();
        table.MatchDurable("n/1", "c2", fromAnother);

        Assert.Equal(0, fromItself.Count);
        Assert.Equal(1, fromAnother.Count);
    }

    private static RouteTable NewTable() => new(Options.Create(new SessionsOptions()));

    private static RouteUpdate Delta(string from, long version, string[]? added = null, string[]? removed = null) =>
        new(from, version, IsSnapshot: false, added ?? [], removed ?? [], []);

    private static IReadOnlyList<Subscription> Decode(byte[] bytes) => FleetCodec.DecodeSubscriptions(bytes);

    private static List<string> MatchNodes(RouteTable table, string topic)
    {
        var matches = new SubscriberMatches();
        table.MatchNodes(topic, matches);
        return [.. matches.AsSpan().ToArray().Select(m => m.ClientId)];
    }
}
