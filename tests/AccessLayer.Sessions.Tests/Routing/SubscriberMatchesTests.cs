using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions.Routing;

namespace AccessLayer.Sessions.Tests.Routing;

public class SubscriberMatchesTests
{
    [Fact]
    public void Complete_merges_one_clients_hits_into_max_qos_and_all_subscription_ids()
    {
        var matches = new SubscriberMatches();
        matches.AddHit("dev", new SubscriptionOptions(MqttQualityOfService.AtMostOnce, SubscriptionIdentifier: 7), null);
        matches.AddHit("other", new SubscriptionOptions(MqttQualityOfService.AtLeastOnce, SubscriptionIdentifier: 3), null);
        matches.AddHit("dev", new SubscriptionOptions(MqttQualityOfService.ExactlyOnce), null);
        matches.AddHit("dev", new SubscriptionOptions(MqttQualityOfService.AtLeastOnce, RetainAsPublished: true, SubscriptionIdentifier: 9), null);

        matches.Complete();

        Assert.Equal(2, matches.Count);
        SubscriberMatch dev = Find(matches, "dev", null);
        Assert.Equal(MqttQualityOfService.ExactlyOnce, dev.MaximumQualityOfService);
        Assert.True(dev.RetainAsPublished);
        Assert.Equal([7u, 9u], matches.GetSubscriptionIdentifiers(dev).ToArray().Order());
        SubscriberMatch other = Find(matches, "other", null);
        Assert.Equal([3u], matches.GetSubscriptionIdentifiers(other).ToArray());
        Assert.False(other.RetainAsPublished);
    }

    [Fact]
    public void Complete_keeps_shared_delivery_separate_from_same_clients_own_subscription()
    {
        var matches = new SubscriberMatches();
        matches.AddHit("w1", new SubscriptionOptions(MqttQualityOfService.AtLeastOnce, SubscriptionIdentifier: 1), null);
        matches.AddHit("w1", new SubscriptionOptions(MqttQualityOfService.AtMostOnce, SubscriptionIdentifier: 2), "group");

        matches.Complete();

        Assert.Equal(2, matches.Count);
        Assert.Equal([1u], matches.GetSubscriptionIdentifiers(Find(matches, "w1", null)).ToArray());
        SubscriberMatch shared = Find(matches, "w1", "group");
        Assert.Equal([2u], matches.GetSubscriptionIdentifiers(shared).ToArray());
        Assert.Equal(MqttQualityOfService.AtMostOnce, shared.MaximumQualityOfService);
    }

    [Fact]
    public void Complete_merges_correctly_past_the_linear_scan_limit()
    {
        var matches = new SubscriberMatches();
        for (int round = 0; round < 3; round++)
        {
            for (int c = 0; c < 50; c++)
            {
                matches.AddHit($"c{c}", new SubscriptionOptions((MqttQualityOfService)round, SubscriptionIdentifier: (uint)(round * 100 + c + 1)), null);
            }
        }

        matches.Complete();

        Assert.Equal(50, matches.Count);
        for (int c = 0; c < 50; c++)
        {
            SubscriberMatch m = Find(matches, $"c{c}", null);
            Assert.Equal(MqttQualityOfService.ExactlyOnce, m.MaximumQualityOfService);
            Assert.Equal([(uint)(c + 1), (uint)(101 + c), (uint)(201 + c)], matches.GetSubscriptionIdentifiers(m).ToArray().Order());
        }
    }

    [Fact]
    public void Clear_makes_buffer_reusable_without_stale_results()
    {
        var matches = new SubscriberMatches();
        matches.AddHit("a", new SubscriptionOptions(MqttQualityOfService.AtLeastOnce, SubscriptionIdentifier: 5), null);
        matches.Complete();
        matches.Clear();
        Assert.Equal(0, matches.Count);

        matches.AddHit("b", new SubscriptionOptions(MqttQualityOfService.AtMostOnce), null);
        matches.Complete();

        SubscriberMatch only = Assert.Single(matches.AsSpan().ToArray());
        Assert.Equal("b", only.ClientId);
        Assert.True(matches.GetSubscriptionIdentifiers(only).IsEmpty);
    }

    [Fact]
    public void Indexer_rejects_out_of_range()
    {
        var matches = new SubscriberMatches();
        Assert.Throws<ArgumentOutOfRangeException>(() => matches[0]);
    }

    private static SubscriberMatch Find(SubscriberMatches matches, string clientId, string? group)
    {
        foreach (SubscriberMatch m in matches.AsSpan())
        {
            if (m.ClientId == clientId && m.ShareGroup == group)
            {
                return m;
            }
        }

        throw new Xunit.Sdk.XunitException($"no match for {clientId}/{group}");
    }
}
