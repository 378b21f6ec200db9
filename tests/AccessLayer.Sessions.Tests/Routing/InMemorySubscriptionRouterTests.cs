using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions.Routing;
using Microsoft.Extensions.Options;

namespace AccessLayer.Sessions.Tests.Routing;

public class InMemorySubscriptionRouterTests
{
    private static readonly SubscriptionOptions Qos1 = new(MqttQualityOfService.AtLeastOnce);

    [Fact]
    public async Task Subscribe_reports_new_then_existing_for_retain_handling()
    {
        using var router = NewRouter();
        Assert.True(await router.SubscribeAsync("c", "a/+", Qos1));
        Assert.False(await router.SubscribeAsync("c", "a/+", Qos1 with { MaximumQualityOfService = MqttQualityOfService.ExactlyOnce }));
        Assert.Equal(1, router.Count);
    }

    [Fact]
    public async Task Subscribe_rejects_invalid_filter()
    {
        using var router = NewRouter();
        await Assert.ThrowsAsync<ArgumentException>(async () => await router.SubscribeAsync("c", "a/#/b", Qos1));
        await Assert.ThrowsAsync<ArgumentException>(async () => await router.SubscribeAsync("c", "$share/g", Qos1));
    }

    [Fact]
    public async Task Subscribe_rejects_filter_deeper_than_configured_levels()
    {
        using var router = NewRouter(maxLevels: 3);
        Assert.True(await router.SubscribeAsync("c", "a/b/c", Qos1));
        await Assert.ThrowsAsync<ArgumentException>(async () => await router.SubscribeAsync("c", "a/b/c/d", Qos1));
    }

    [Fact]
    public async Task Unsubscribe_reports_whether_subscription_existed()
    {
        using var router = NewRouter();
        await router.SubscribeAsync("c", "a/b", Qos1);
        Assert.False(await router.UnsubscribeAsync("c", "a/+"));
        Assert.False(await router.UnsubscribeAsync("other", "a/b"));
        Assert.False(await router.UnsubscribeAsync("c", "not/valid/#/x"));
        Assert.True(await router.UnsubscribeAsync("c", "a/b"));
        Assert.Empty(await Match(router, "a/b"));
    }

    [Fact]
    public async Task Shared_subscription_delivers_round_robin_one_member_per_message()
    {
        using var router = NewRouter();
        await router.SubscribeAsync("w1", "$share/workers/jobs/#", Qos1);
        await router.SubscribeAsync("w2", "$share/workers/jobs/#", Qos1);
        await router.SubscribeAsync("w3", "$share/workers/jobs/#", Qos1);

        var receivers = new List<string>();
        for (int i = 0; i < 9; i++)
        {
            SubscriberMatch m = Assert.Single(await Match(router, $"jobs/{i}"));
            Assert.Equal("workers", m.ShareGroup);
            receivers.Add(m.ClientId);
        }

        // Each member gets every third message, in a fixed rotation.
        Assert.Equal(3, receivers.Distinct().Count());
        Assert.All(receivers.GroupBy(r => r), g => Assert.Equal(3, g.Count()));
        Assert.Equal(receivers.Take(3), receivers.Skip(3).Take(3));
    }

    [Fact]
    public async Task Shared_groups_are_per_group_and_filter()
    {
        using var router = NewRouter();
        await router.SubscribeAsync("a1", "$share/a/t/+", Qos1);
        await router.SubscribeAsync("b1", "$share/b/t/+", Qos1);
        await router.SubscribeAsync("a2", "$share/a/t/#", Qos1);

        List<SubscriberMatch> matched = await Match(router, "t/x");

        // Group "a" on "t/+" and group "a" on "t/#" are distinct shared subscriptions: three deliveries.
        Assert.Equal(["a1", "a2", "b1"], matched.Select(m => m.ClientId).Order());
    }

    [Fact]
    public async Task Member_leaving_group_stops_receiving_and_others_share_everything()
    {
        using var router = NewRouter();
        await router.SubscribeAsync("w1", "$share/g/jobs", Qos1);
        await router.SubscribeAsync("w2", "$share/g/jobs", Qos1);
        await router.SubscribeAsync("w3", "$share/g/jobs", Qos1);

        Assert.True(await router.UnsubscribeAsync("w2", "$share/g/jobs"));

        var receivers = new List<string>();
        for (int i = 0; i < 6; i++)
        {
            receivers.Add(Assert.Single(await Match(router, "jobs")).ClientId);
        }

        Assert.DoesNotContain("w2", receivers);
        Assert.Equal(3, receivers.Count(r => r == "w1"));
        Assert.Equal(3, receivers.Count(r => r == "w3"));

        await router.UnsubscribeAsync("w1", "$share/g/jobs");
        await router.UnsubscribeAsync("w3", "$share/g/jobs");
        Assert.Empty(await Match(router, "jobs"));
    }

    [Fact]
    public async Task Overlapping_subscriptions_of_one_client_give_one_delivery_with_every_identifier()
    {
        using var router = NewRouter();
        await router.SubscribeAsync("dev", "home/+/temp", new SubscriptionOptions(MqttQualityOfService.AtMostOnce, SubscriptionIdentifier: 1));
        await router.SubscribeAsync("dev", "home/#", new SubscriptionOptions(MqttQualityOfService.ExactlyOnce, SubscriptionIdentifier: 2));
        await router.SubscribeAsync("dev", "home/kitchen/temp", new SubscriptionOptions(MqttQualityOfService.AtLeastOnce));

        var result = new SubscriberMatches();
        await router.MatchAsync("home/kitchen/temp", null, result);

        SubscriberMatch only = Assert.Single(result.AsSpan().ToArray());
        Assert.Equal(MqttQualityOfService.ExactlyOnce, only.MaximumQualityOfService);
        Assert.Equal([1u, 2u], result.GetSubscriptionIdentifiers(only).ToArray().Order());
    }

    [Fact]
    public async Task No_local_applies_per_subscription_before_merging()
    {
        using var router = NewRouter();
        await router.SubscribeAsync("dev", "a/+", new SubscriptionOptions(MqttQualityOfService.ExactlyOnce, NoLocal: true, SubscriptionIdentifier: 1));
        await router.SubscribeAsync("dev", "a/#", new SubscriptionOptions(MqttQualityOfService.AtMostOnce, SubscriptionIdentifier: 2));

        var result = new SubscriberMatches();
        await router.MatchAsync("a/b", "dev", result);

        SubscriberMatch only = Assert.Single(result.AsSpan().ToArray());
        Assert.Equal(MqttQualityOfService.AtMostOnce, only.MaximumQualityOfService);
        Assert.Equal([2u], result.GetSubscriptionIdentifiers(only).ToArray());
    }

    [Fact]
    public async Task RemoveClient_drops_every_route_of_the_client_including_shared_membership()
    {
        using var router = NewRouter();
        await router.SubscribeAsync("c", "a/b", Qos1);
        await router.SubscribeAsync("c", "a/#", Qos1);
        await router.SubscribeAsync("c", "$share/g/a/b", Qos1);
        await router.SubscribeAsync("keep", "a/b", Qos1);

        Assert.Equal(3, await router.RemoveClientAsync("c"));
        Assert.Equal(0, await router.RemoveClientAsync("c"));

        Assert.Equal(["keep"], (await Match(router, "a/b")).Select(m => m.ClientId));
        Assert.Equal(1, router.Count);
    }

    [Fact]
    public async Task Concurrent_matching_while_subscribing_sees_stable_subscriptions()
    {
        using var router = NewRouter();
        await router.SubscribeAsync("stable", "fleet/+/telemetry", Qos1);
        using var stop = new CancellationTokenSource();

        Task writer = Task.Run(async () =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                await router.SubscribeAsync($"d{i % 500}", $"fleet/{i % 97}/telemetry", Qos1);
                await router.UnsubscribeAsync($"d{(i + 250) % 500}", $"fleet/{(i + 50) % 97}/telemetry");
            }
        });

        Task<int>[] readers = Enumerable.Range(0, 2).Select(r => Task.Run(async () =>
        {
            var result = new SubscriberMatches();
            int seen = 0;
            do
            {
                await router.MatchAsync($"fleet/{seen % 97}/telemetry", null, result);
                bool found = false;
                foreach (SubscriberMatch m in result.AsSpan())
                {
                    found |= m.ClientId == "stable";
                }

                Assert.True(found);
                seen++;
            }
            while (!writer.IsCompleted);

            return seen;
        })).ToArray();

        await writer;
        int[] counts = await Task.WhenAll(readers);
        Assert.All(counts, c => Assert.True(c > 0));
    }

    [Fact]
    public async Task Match_with_reused_buffer_allocates_nothing_in_steady_state()
    {
        using var router = NewRouter();
        for (int i = 0; i < 1000; i++)
        {
            await router.SubscribeAsync($"dev{i}", $"tenant/1/device/{i}/cmd/#", Qos1);
        }

        await router.SubscribeAsync("backend", "tenant/1/device/+/telemetry", new SubscriptionOptions(MqttQualityOfService.AtLeastOnce, SubscriptionIdentifier: 4));
        await router.SubscribeAsync("w1", "$share/ingest/tenant/+/device/+/telemetry", Qos1);
        var result = new SubscriberMatches();
        await router.MatchAsync("tenant/1/device/7/telemetry", null, result);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            await router.MatchAsync("tenant/1/device/7/telemetry", null, result);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(2, result.Count);
        Assert.Equal(0, allocated);
    }

    private static InMemorySubscriptionRouter NewRouter(int maxLevels = 64) =>
        new(Options.Create(new SessionsOptions { MaxTopicLevels = maxLevels }));

    private static async Task<List<SubscriberMatch>> Match(InMemorySubscriptionRouter router, string topic)
    {
        var result = new SubscriberMatches();
        await router.MatchAsync(topic, null, result);
        return [.. result.AsSpan().ToArray()];
    }
}
