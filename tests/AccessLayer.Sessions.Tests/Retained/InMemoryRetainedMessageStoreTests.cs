using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions.Retained;
using AccessLayer.Sessions.Tests.Routing;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AccessLayer.Sessions.Tests.Retained;

public class InMemoryRetainedMessageStoreTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Set_stores_then_replaces_per_topic()
    {
        using var store = new InMemoryRetainedMessageStore(_time, Options.Create(new SessionsOptions()));

        Assert.Equal(RetainedUpdate.Stored, await store.SetAsync(Message("home/temp", "20")));
        Assert.Equal(RetainedUpdate.Replaced, await store.SetAsync(Message("home/temp", "21")));

        RetainedMessage only = Assert.Single(await store.MatchAsync("home/temp"));
        Assert.Equal("21"u8.ToArray(), only.Message.Payload.ToArray());
        Assert.Equal(1, await store.CountAsync());
    }

    [Fact]
    public async Task Past_the_count_bound_a_new_topic_is_not_retained_but_an_existing_one_is_replaced()
    {
        using var store = new InMemoryRetainedMessageStore(_time, Options.Create(new SessionsOptions { MaxRetainedMessages = 2 }));
        await store.SetAsync(Message("a", "1"));
        await store.SetAsync(Message("b", "1"));

        Assert.Equal(RetainedUpdate.NotStoredCountLimit, await store.SetAsync(Message("c", "1")));
        Assert.Equal(RetainedUpdate.Replaced, await store.SetAsync(Message("a", "2")));
        Assert.Equal(["a", "b"], Topics(await store.MatchAsync("#")));

        // Deleting one makes room again.
        Assert.Equal(RetainedUpdate.Deleted, await store.SetAsync(Message("b", "")));
        Assert.Equal(RetainedUpdate.Stored, await store.SetAsync(Message("c", "1")));
    }

    [Fact]
    public async Task Past_the_byte_bound_nothing_that_grows_the_store_is_retained()
    {
        // A message counts payload plus topic: "t1" + 48 bytes = 50.
        using var store = new InMemoryRetainedMessageStore(_time, Options.Create(new SessionsOptions { MaxRetainedBytes = 120 }));
        Assert.Equal(RetainedUpdate.Stored, await store.SetAsync(Message("t1", new string('x', 48))));
        Assert.Equal(RetainedUpdate.Stored, await store.SetAsync(Message("t2", new string('x', 48))));

        Assert.Equal(RetainedUpdate.NotStoredBytesLimit, await store.SetAsync(Message("t3", new string('x', 48))));
        Assert.Equal(RetainedUpdate.NotStoredBytesLimit, await store.SetAsync(Message("t1", new string('x', 78))));
        Assert.Equal(RetainedUpdate.Replaced, await store.SetAsync(Message("t1", new string('x', 10))));
        Assert.Equal(RetainedUpdate.Stored, await store.SetAsync(Message("t3", new string('x', 8))));
        Assert.Equal(3, await store.CountAsync());
    }

    [Fact]
    public async Task Set_with_empty_payload_deletes_and_is_not_stored()
    {
        using var store = new InMemoryRetainedMessageStore(_time, Options.Create(new SessionsOptions()));
        await store.SetAsync(Message("home/temp", "20"));
        await store.SetAsync(Message("home/temp/kitchen", "19"));

        Assert.Equal(RetainedUpdate.Deleted, await store.SetAsync(Message("home/temp", "")));
        Assert.Equal(RetainedUpdate.NothingToDelete, await store.SetAsync(Message("home/temp", "")));
        Assert.Equal(RetainedUpdate.NothingToDelete, await store.SetAsync(Message("nowhere/at/all", "")));

        Assert.Equal(["home/temp/kitchen"], Topics(await store.MatchAsync("home/#")));
        Assert.Equal(RetainedUpdate.Deleted, await store.SetAsync(Message("home/temp/kitchen", "")));
        Assert.Empty(await store.MatchAsync("#"));
        Assert.Equal(0, await store.CountAsync());
    }

    [Fact]
    public async Task Match_expands_wildcards_over_stored_topics()
    {
        using var store = new InMemoryRetainedMessageStore(_time, Options.Create(new SessionsOptions()));
        foreach (string topic in new[] { "sport", "sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking", "sport/golf", "/finance", "$SYS/uptime" })
        {
            await store.SetAsync(Message(topic, "x"));
        }

        Assert.Equal(["sport/tennis/player1", "sport/tennis/player1/ranking"], Topics(await store.MatchAsync("sport/tennis/player1/#")));
        Assert.Equal(["sport", "sport/golf", "sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking"], Topics(await store.MatchAsync("sport/#")));
        Assert.Equal(["sport/golf", "sport/tennis"], Topics(await store.MatchAsync("sport/+")));
        Assert.Equal(["/finance", "sport/golf", "sport/tennis"], Topics(await store.MatchAsync("+/+")));
        Assert.Equal(["sport"], Topics(await store.MatchAsync("+")));
        Assert.Equal(["sport/tennis/player1"], Topics(await store.MatchAsync("sport/tennis/player1")));
        Assert.Empty(await store.MatchAsync("sport/tennis/player2"));
    }

    [Fact]
    public async Task Match_with_leading_wildcard_skips_dollar_topics()
    {
        using var store = new InMemoryRetainedMessageStore(_time, Options.Create(new SessionsOptions()));
        await store.SetAsync(Message("$SYS/broker/uptime", "1"));
        await store.SetAsync(Message("app/status", "ok"));

        Assert.Equal(["app/status"], Topics(await store.MatchAsync("#")));
        Assert.Empty(await store.MatchAsync("+/broker/uptime"));
        Assert.Equal(["$SYS/broker/uptime"], Topics(await store.MatchAsync("$SYS/#")));
        Assert.Equal(["$SYS/broker/uptime"], Topics(await store.MatchAsync("$SYS/+/uptime")));
    }

    [Fact]
    public async Task Match_skips_expired_and_reports_remaining_expiry()
    {
        using var store = new InMemoryRetainedMessageStore(_time, Options.Create(new SessionsOptions()));
        await store.SetAsync(Message("a/short", "x", expiry: 10));
        await store.SetAsync(Message("a/long", "x", expiry: 100));
        await store.SetAsync(Message("a/forever", "x"));

        _time.Advance(TimeSpan.FromSeconds(10));
        IReadOnlyList<RetainedMessage> found = await store.MatchAsync("a/+");

        Assert.Equal(["a/forever", "a/long"], Topics(found));
        Assert.Equal(90u, found.Single(m => m.Message.Topic == "a/long").RemainingExpiryInterval);
        Assert.Null(found.Single(m => m.Message.Topic == "a/forever").RemainingExpiryInterval);
    }

    [Fact]
    public async Task RemoveExpired_deletes_only_expired_messages()
    {
        using var store = new InMemoryRetainedMessageStore(_time, Options.Create(new SessionsOptions()));
        await store.SetAsync(Message("a/b/short", "x", expiry: 5));
        await store.SetAsync(Message("a/long", "x", expiry: 50));

        Assert.Equal(0, await store.RemoveExpiredAsync());
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, await store.RemoveExpiredAsync());

        Assert.Equal(1, await store.CountAsync());
        Assert.Equal(["a/long"], Topics(await store.MatchAsync("#")));
    }

    [Fact]
    public async Task Replacing_restarts_the_expiry_clock()
    {
        using var store = new InMemoryRetainedMessageStore(_time, Options.Create(new SessionsOptions()));
        await store.SetAsync(Message("t", "old", expiry: 10));
        _time.Advance(TimeSpan.FromSeconds(8));
        await store.SetAsync(Message("t", "new", expiry: 10));
        _time.Advance(TimeSpan.FromSeconds(8));

        RetainedMessage only = Assert.Single(await store.MatchAsync("t"));
        Assert.Equal(2u, only.RemainingExpiryInterval);
        Assert.Equal(_time.GetUtcNow().AddSeconds(-8), only.StoredAt);
    }

    [Fact]
    public void Match_property_agrees_with_naive_matcher_on_random_topics_and_filters()
    {
        Gen<string> topic = TopicGenerators.Topic;
        Gen<string> filter = TopicGenerators.Filter;
        Gen<(string[] Topics, string[] Filters)> scenario =
            from topics in Gen.Choose(1, 20).SelectMany(n => Gen.ArrayOf(topic, n))
            from filters in Gen.Choose(1, 10).SelectMany(n => Gen.ArrayOf(filter, n))
            select (topics, filters);

        Property property = Prop.ForAll(Arb.From(scenario), s =>
        {
            using var store = new InMemoryRetainedMessageStore(_time, Options.Create(new SessionsOptions()));
            foreach (string t in s.Topics)
            {
                store.SetAsync(Message(t, "x")).AsTask().GetAwaiter().GetResult();
            }

            string[] stored = s.Topics.Distinct().ToArray();
            foreach (string f in s.Filters)
            {
                IEnumerable<string> expected = stored.Where(t => NaiveTopicMatcher.Matches(f, t)).Order();
                IReadOnlyList<RetainedMessage> actual = store.MatchAsync(f).AsTask().GetAwaiter().GetResult();
                if (!expected.SequenceEqual(Topics(actual)))
                {
                    return false;
                }
            }

            return true;
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }

    private static List<string> Topics(IReadOnlyList<RetainedMessage> messages) => messages.Select(m => m.Message.Topic).Order(StringComparer.Ordinal).ToList();

    private static MqttApplicationMessage Message(string topic, string payload, uint? expiry = null) => new()
    {
        Topic = topic,
        Payload = System.Text.Encoding.UTF8.GetBytes(payload),
        QualityOfService = MqttQualityOfService.AtLeastOnce,
        Retain = true,
        MessageExpiryInterval = expiry,
    };
}
