using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions.Queue;
using AccessLayer.Sessions.Routing;
using AccessLayer.Sessions.Store;
using AccessLayer.Sessions.Tests.Queue;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AccessLayer.Sessions.Tests.Store;

public class InMemorySessionStoreTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Open_new_session_is_not_present_and_resume_after_disconnect_is()
    {
        InMemorySessionStore store = NewStore();
        SessionOpenResult first = await store.OpenAsync(Connect("dev", expiry: 60));
        Assert.False(first.SessionPresent);
        Assert.Null(first.TakenOver);
        await store.SetSubscriptionAsync(first.Token, new Subscription("a/+", new SubscriptionOptions(MqttQualityOfService.AtLeastOnce)));
        await store.DisconnectAsync(first.Token, publishWill: false);

        SessionOpenResult second = await store.OpenAsync(Connect("dev", expiry: 60));

        Assert.True(second.SessionPresent);
        Assert.NotEqual(first.Token.Epoch, second.Token.Epoch);
        SessionState state = (await store.GetAsync("dev"))!;
        Assert.Equal("a/+", Assert.Single(state.Subscriptions).TopicFilter);
        Assert.True(state.IsConnected);
    }

    [Fact]
    public async Task Open_with_clean_start_discards_previous_state()
    {
        InMemorySessionStore store = NewStore();
        SessionOpenResult first = await store.OpenAsync(Connect("dev", expiry: 60));
        await store.SetSubscriptionAsync(first.Token, new Subscription("a", default));
        await store.AddInflightAsync(first.Token, OfflineQueueTests.Delivery("x"));
        await store.DisconnectAsync(first.Token, publishWill: false);
        await store.EnqueueAsync("dev", OfflineQueueTests.Delivery("queued"));

        SessionOpenResult clean = await store.OpenAsync(Connect("dev", expiry: 60, cleanStart: true));

        Assert.False(clean.SessionPresent);
        SessionState state = (await store.GetAsync("dev"))!;
        Assert.Empty(state.Subscriptions);
        Assert.Empty(state.Inflight);
        Assert.Equal(0, state.QueuedMessageCount);
    }

    [Fact]
    public async Task Open_while_connected_takes_over_and_fences_the_old_connection()
    {
        InMemorySessionStore store = NewStore();
        SessionOpenResult old = await store.OpenAsync(Connect("dev", expiry: 60, node: "node-a"));

        SessionOpenResult taker = await store.OpenAsync(Connect("dev", expiry: 60, node: "node-b"));

        Assert.True(taker.SessionPresent);
        Assert.Equal(old.Token, taker.TakenOver);
        Assert.Equal("node-a", taker.TakenOverNodeId);
        SessionTakenOverException error = await Assert.ThrowsAsync<SessionTakenOverException>(async () =>
            await store.SetSubscriptionAsync(old.Token, new Subscription("a", default)));
        Assert.Equal(0x8E, error.ReasonCode);
        Assert.Equal("dev", error.ClientId);

        // The old connection's late close must not disconnect the new one.
        SessionDisconnectResult late = await store.DisconnectAsync(old.Token, publishWill: true);
        Assert.False(late.Applied);
        SessionState state = (await store.GetAsync("dev"))!;
        Assert.True(state.IsConnected);
        Assert.Equal("node-b", state.NodeId);
        Assert.Equal(taker.Token.Epoch, state.Epoch);
    }

    [Fact]
    public async Task Takeover_publishes_old_will_when_its_delay_is_zero()
    {
        InMemorySessionStore store = NewStore();
        await store.OpenAsync(Connect("dev", expiry: 60, will: Will("dev/lwt", delay: 0)));

        SessionOpenResult taker = await store.OpenAsync(Connect("dev", expiry: 60));

        Assert.Equal("dev/lwt", taker.WillToPublish?.Topic);
        Assert.True(taker.SessionPresent);
    }

    [Fact]
    public async Task Takeover_resuming_session_cancels_delayed_will()
    {
        InMemorySessionStore store = NewStore();
        await store.OpenAsync(Connect("dev", expiry: 60, will: Will("dev/lwt", delay: 10)));

        SessionOpenResult taker = await store.OpenAsync(Connect("dev", expiry: 60));
        _time.Advance(TimeSpan.FromSeconds(30));

        Assert.Null(taker.WillToPublish);
        Assert.Empty((await store.RemoveExpiredAsync()).DueWills);
    }

    [Fact]
    public async Task Takeover_with_clean_start_ends_old_session_and_publishes_delayed_will()
    {
        InMemorySessionStore store = NewStore();
        await store.OpenAsync(Connect("dev", expiry: 60, will: Will("dev/lwt", delay: 10)));

        SessionOpenResult taker = await store.OpenAsync(Connect("dev", expiry: 60, cleanStart: true));

        Assert.False(taker.SessionPresent);
        Assert.NotNull(taker.TakenOver);
        Assert.Equal("dev/lwt", taker.WillToPublish?.Topic);
    }

    [Fact]
    public async Task Takeover_of_session_with_expiry_zero_starts_fresh_and_publishes_will()
    {
        InMemorySessionStore store = NewStore();
        SessionOpenResult old = await store.OpenAsync(Connect("dev", expiry: 0, will: Will("dev/lwt", delay: 10)));
        await store.SetSubscriptionAsync(old.Token, new Subscription("a", default));

        SessionOpenResult taker = await store.OpenAsync(Connect("dev", expiry: 60));

        Assert.False(taker.SessionPresent);
        Assert.Equal("dev/lwt", taker.WillToPublish?.Topic);
        Assert.Empty((await store.GetAsync("dev"))!.Subscriptions);
    }

    [Fact]
    public async Task Disconnect_with_expiry_zero_ends_session_and_returns_will()
    {
        InMemorySessionStore store = NewStore();
        SessionOpenResult open = await store.OpenAsync(Connect("dev", expiry: 0, will: Will("dev/lwt", delay: 30)));

        SessionDisconnectResult result = await store.DisconnectAsync(open.Token, publishWill: true);

        Assert.True(result.Applied);
        Assert.True(result.SessionEnded);
        Assert.Equal("dev/lwt", result.WillToPublish?.Topic);
        Assert.Null(await store.GetAsync("dev"));
        Assert.Equal(0, store.Count);
        await Assert.ThrowsAsync<SessionTakenOverException>(async () => await store.AddIncomingAsync(open.Token, 1));
    }

    [Fact]
    public async Task Normal_disconnect_discards_the_will()
    {
        InMemorySessionStore store = NewStore();
        SessionOpenResult open = await store.OpenAsync(Connect("dev", expiry: 60, will: Will("dev/lwt", delay: 0)));

        SessionDisconnectResult result = await store.DisconnectAsync(open.Token, publishWill: false);
        _time.Advance(TimeSpan.FromSeconds(61));

        Assert.Null(result.WillToPublish);
        SessionExpiryResult swept = await store.RemoveExpiredAsync();
        Assert.Empty(swept.DueWills);
        Assert.Equal(["dev"], swept.ExpiredClientIds);
    }

    [Fact]
    public async Task Abnormal_disconnect_with_zero_delay_returns_will_at_once()
    {
        InMemorySessionStore store = NewStore();
        SessionOpenResult open = await store.OpenAsync(Connect("dev", expiry: 60, will: Will("dev/lwt", delay: 0)));

        SessionDisconnectResult result = await store.DisconnectAsync(open.Token, publishWill: true);

        Assert.False(result.SessionEnded);
        Assert.Equal("dev/lwt", result.WillToPublish?.Topic);
        Assert.Null((await store.GetAsync("dev"))!.Will);
    }

    [Fact]
    public async Task Delayed_will_is_due_after_its_delay_and_session_expires_after_its_interval()
    {
        InMemorySessionStore store = NewStore();
        SessionOpenResult open = await store.OpenAsync(Connect("dev", expiry: 100, will: Will("dev/lwt", delay: 30)));
        SessionDisconnectResult disconnect = await store.DisconnectAsync(open.Token, publishWill: true);
        Assert.Null(disconnect.WillToPublish);

        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.Same(SessionExpiryResult.Empty, await store.RemoveExpiredAsync());

        _time.Advance(TimeSpan.FromSeconds(1));
        SessionExpiryResult atWill = await store.RemoveExpiredAsync();
        Assert.Equal("dev/lwt", Assert.Single(atWill.DueWills).Topic);
        Assert.Empty(atWill.ExpiredClientIds);
        Assert.NotNull(await store.GetAsync("dev"));

        _time.Advance(TimeSpan.FromSeconds(69));
        Assert.Empty((await store.RemoveExpiredAsync()).ExpiredClientIds);

        _time.Advance(TimeSpan.FromSeconds(1));
        SessionExpiryResult atExpiry = await store.RemoveExpiredAsync();
        Assert.Equal(["dev"], atExpiry.ExpiredClientIds);
        Assert.Empty(atExpiry.DueWills);
        Assert.Null(await store.GetAsync("dev"));
    }

    [Fact]
    public async Task Will_delay_longer_than_session_expiry_fires_when_session_ends()
    {
        InMemorySessionStore store = NewStore();
        SessionOpenResult open = await store.OpenAsync(Connect("dev", expiry: 10, will: Will("dev/lwt", delay: 3600)));
        await store.DisconnectAsync(open.Token, publishWill: true);

        _time.Advance(TimeSpan.FromSeconds(10));
        SessionExpiryResult swept = await store.RemoveExpiredAsync();

        Assert.Equal("dev/lwt", Assert.Single(swept.DueWills).Topic);
        Assert.Equal(["dev"], swept.ExpiredClientIds);
    }

    [Fact]
    public async Task Reconnect_within_will_delay_cancels_will_and_expiry()
    {
        InMemorySessionStore store = NewStore();
        SessionOpenResult open = await store.OpenAsync(Connect("dev", expiry: 60, will: Will("dev/lwt", delay: 30)));
        await store.DisconnectAsync(open.Token, publishWill: true);
        _time.Advance(TimeSpan.FromSeconds(20));

        SessionOpenResult back = await store.OpenAsync(Connect("dev", expiry: 60));
        _time.Advance(TimeSpan.FromSeconds(600));

        Assert.True(back.SessionPresent);
        Assert.Null(back.WillToPublish);
        Assert.Same(SessionExpiryResult.Empty, await store.RemoveExpiredAsync());
        Assert.True((await store.GetAsync("dev"))!.IsConnected);
    }

    [Fact]
    public async Task Open_after_expiry_but_before_sweep_starts_fresh_and_publishes_pending_will()
    {
        InMemorySessionStore store = NewStore();
        SessionOpenResult open = await store.OpenAsync(Connect("dev", expiry: 10, will: Will("dev/lwt", delay: 60)));
        await store.SetSubscriptionAsync(open.Token, new Subscription("a", default));
        await store.DisconnectAsync(open.Token, publishWill: true);
        _time.Advance(TimeSpan.FromSeconds(11));

        SessionOpenResult back = await store.OpenAsync(Connect("dev", expiry: 10));

        Assert.False(back.SessionPresent);
        Assert.Equal("dev/lwt", back.WillToPublish?.Topic);
        Assert.Empty((await store.GetAsync("dev"))!.Subscriptions);
        Assert.Same(SessionExpiryResult.Empty, await store.RemoveExpiredAsync());
    }

    [Fact]
    public async Task Disconnect_can_change_session_expiry_interval()
    {
        InMemorySessionStore store = NewStore();
        SessionOpenResult open = await store.OpenAsync(Connect("dev", expiry: 10));

        await store.DisconnectAsync(open.Token, publishWill: false, sessionExpiryInterval: 300);
        _time.Advance(TimeSpan.FromSeconds(299));
        Assert.Empty((await store.RemoveExpiredAsync()).ExpiredClientIds);
        Assert.Equal(300u, (await store.GetAsync("dev"))!.SessionExpiryInterval);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["dev"], (await store.RemoveExpiredAsync()).ExpiredClientIds);
    }

    [Fact]
    public async Task Session_with_never_expiry_survives_years_offline()
    {
        InMemorySessionStore store = NewStore();
        SessionOpenResult open = await store.OpenAsync(Connect("dev", expiry: SessionExpiry.Never));
        await store.DisconnectAsync(open.Token, publishWill: false);

        _time.Advance(TimeSpan.FromDays(3650));

        Assert.Same(SessionExpiryResult.Empty, await store.RemoveExpiredAsync());
        Assert.True((await store.OpenAsync(Connect("dev", expiry: SessionExpiry.Never))).SessionPresent);
    }

    [Fact]
    public async Task AddInflight_allocates_distinct_ids_up_to_max_inflight()
    {
        InMemorySessionStore store = NewStore(o => o.MaxInflightMessages = 3);
        SessionToken token = (await store.OpenAsync(Connect("dev", expiry: 60))).Token;

        ushort a = await store.AddInflightAsync(token, OfflineQueueTests.Delivery("a"));
        ushort b = await store.AddInflightAsync(token, OfflineQueueTests.Delivery("b", qos: MqttQualityOfService.ExactlyOnce));
        ushort c = await store.AddInflightAsync(token, OfflineQueueTests.Delivery("c"));
        ushort full = await store.AddInflightAsync(token, OfflineQueueTests.Delivery("d"));

        Assert.Equal([1, 2, 3], new[] { a, b, c });
        Assert.Equal(0, full);
        Assert.True(await store.RemoveInflightAsync(token, a));
        Assert.False(await store.RemoveInflightAsync(token, a));
        Assert.Equal(4, await store.AddInflightAsync(token, OfflineQueueTests.Delivery("d")));
    }

    [Fact]
    public async Task AddInflight_wraps_packet_ids_and_skips_ids_in_use()
    {
        InMemorySessionStore store = NewStore(o => o.MaxInflightMessages = 2);
        SessionToken token = (await store.OpenAsync(Connect("dev", expiry: 60))).Token;
        Assert.Equal(1, await store.AddInflightAsync(token, OfflineQueueTests.Delivery("held")));
        for (int id = 2; id <= ushort.MaxValue; id++)
        {
            Assert.Equal(id, await store.AddInflightAsync(token, OfflineQueueTests.Delivery("x")));
            await store.RemoveInflightAsync(token, (ushort)id);
        }

        Assert.Equal(2, await store.AddInflightAsync(token, OfflineQueueTests.Delivery("after-wrap")));
    }

    [Fact]
    public async Task AddInflight_rejects_qos0()
    {
        InMemorySessionStore store = NewStore();
        SessionToken token = (await store.OpenAsync(Connect("dev", expiry: 60))).Token;
        await Assert.ThrowsAsync<ArgumentException>(async () =>
            await store.AddInflightAsync(token, OfflineQueueTests.Delivery("q0", qos: MqttQualityOfService.AtMostOnce)));
    }

    [Fact]
    public async Task Inflight_state_and_order_survive_reconnect()
    {
        InMemorySessionStore store = NewStore();
        SessionToken token = (await store.OpenAsync(Connect("dev", expiry: 60))).Token;
        ushort q2 = await store.AddInflightAsync(token, OfflineQueueTests.Delivery("first", qos: MqttQualityOfService.ExactlyOnce));
        ushort q1 = await store.AddInflightAsync(token, OfflineQueueTests.Delivery("second"));
        Assert.True(await store.SetInflightStateAsync(token, q2, OutgoingState.AwaitingPubComp));
        Assert.False(await store.SetInflightStateAsync(token, 999, OutgoingState.AwaitingPubComp));
        await store.DisconnectAsync(token, publishWill: false);

        await store.OpenAsync(Connect("dev", expiry: 60));
        SessionState state = (await store.GetAsync("dev"))!;

        Assert.Equal(
            [(q2, "first", OutgoingState.AwaitingPubComp), (q1, "second", OutgoingState.AwaitingPubAck)],
            state.Inflight.Select(m => (m.PacketId, m.Delivery.Message.Topic, m.State)));
    }

    [Fact]
    public async Task Incoming_qos2_ids_detect_duplicates_until_released()
    {
        InMemorySessionStore store = NewStore();
        SessionToken token = (await store.OpenAsync(Connect("dev", expiry: 60))).Token;

        Assert.True(await store.AddIncomingAsync(token, 7));
        Assert.False(await store.AddIncomingAsync(token, 7));
        Assert.True(await store.AddIncomingAsync(token, 3));
        Assert.Equal([3, 7], (await store.GetAsync("dev"))!.IncomingAwaitingRelease);
        Assert.True(await store.ReleaseIncomingAsync(token, 7));
        Assert.False(await store.ReleaseIncomingAsync(token, 7));
        Assert.True(await store.AddIncomingAsync(token, 7));
    }

    [Fact]
    public async Task Offline_queue_fills_while_away_and_drains_to_the_next_connection()
    {
        InMemorySessionStore store = NewStore(o => o.MaxQueuedMessagesPerSession = 2);
        SessionToken first = (await store.OpenAsync(Connect("dev", expiry: 60))).Token;
        await store.DisconnectAsync(first, publishWill: false);

        Assert.Equal(EnqueueOutcome.NoSession, (await store.EnqueueAsync("nobody", OfflineQueueTests.Delivery("x"))).Outcome);
        await store.EnqueueAsync("dev", OfflineQueueTests.Delivery("m1"));
        await store.EnqueueAsync("dev", OfflineQueueTests.Delivery("m2", expiry: 5));
        EnqueueResult third = await store.EnqueueAsync("dev", OfflineQueueTests.Delivery("m3"));
        Assert.Equal(1, third.DroppedCount);
        Assert.Equal(EnqueueOutcome.NotQueuedQos0, (await store.EnqueueAsync("dev", OfflineQueueTests.Delivery("q0", qos: MqttQualityOfService.AtMostOnce))).Outcome);
        _time.Advance(TimeSpan.FromSeconds(5));

        SessionToken second = (await store.OpenAsync(Connect("dev", expiry: 60))).Token;
        await Assert.ThrowsAsync<SessionTakenOverException>(async () => await store.DequeueAsync(first, 10));
        DequeueResult drained = await store.DequeueAsync(second, 10);

        Assert.Equal(1, drained.ExpiredCount);
        Assert.Equal(["m3"], drained.Messages.Select(m => m.Delivery.Message.Topic));
        Assert.Same(DequeueResult.Empty, await store.DequeueAsync(second, 10));
    }

    [Fact]
    public async Task Qos0_is_queued_when_configured()
    {
        InMemorySessionStore store = NewStore(o => o.QueueQos0Messages = true);
        await store.OpenAsync(Connect("dev", expiry: 60));
        Assert.True((await store.EnqueueAsync("dev", OfflineQueueTests.Delivery("q0", qos: MqttQualityOfService.AtMostOnce))).IsQueued);
    }

    [Fact]
    public async Task RemoveSubscription_reports_whether_it_existed()
    {
        InMemorySessionStore store = NewStore();
        SessionToken token = (await store.OpenAsync(Connect("dev", expiry: 60))).Token;
        var options = new SubscriptionOptions(MqttQualityOfService.AtLeastOnce, SubscriptionIdentifier: 5);
        await store.SetSubscriptionAsync(token, new Subscription("$share/g/a", options));
        await store.SetSubscriptionAsync(token, new Subscription("$share/g/a", options with { NoLocal = false, MaximumQualityOfService = MqttQualityOfService.ExactlyOnce }));

        Subscription stored = Assert.Single((await store.GetAsync("dev"))!.Subscriptions);
        Assert.Equal(MqttQualityOfService.ExactlyOnce, stored.Options.MaximumQualityOfService);
        Assert.True(await store.RemoveSubscriptionAsync(token, "$share/g/a"));
        Assert.False(await store.RemoveSubscriptionAsync(token, "$share/g/a"));
    }

    [Fact]
    public async Task Remove_ends_session_and_fences_its_connection()
    {
        InMemorySessionStore store = NewStore();
        SessionToken token = (await store.OpenAsync(Connect("dev", expiry: 60))).Token;

        Assert.True(await store.RemoveAsync("dev"));
        Assert.False(await store.RemoveAsync("dev"));

        Assert.Null(await store.GetAsync("dev"));
        await Assert.ThrowsAsync<SessionTakenOverException>(async () => await store.AddIncomingAsync(token, 1));
        Assert.False((await store.DisconnectAsync(token, publishWill: true)).Applied);
        Assert.False((await store.OpenAsync(Connect("dev", expiry: 60))).SessionPresent);
    }

    [Fact]
    public async Task Concurrent_opens_of_one_client_id_yield_one_owner()
    {
        InMemorySessionStore store = NewStore();
        SessionOpenResult[] results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            Task.Run(async () => await store.OpenAsync(Connect("dev", expiry: 60, node: $"n{i}")))));

        // Exactly one open found no prior connection; every other took over exactly one predecessor.
        Assert.Single(results, r => r.TakenOver is null);
        Assert.Equal(15, results.Select(r => r.TakenOver).OfType<SessionToken>().Distinct().Count());
        long lastEpoch = results.Max(r => r.Token.Epoch);
        Assert.Equal(lastEpoch, (await store.GetAsync("dev"))!.Epoch);
    }

    [Fact]
    public async Task Past_the_session_bound_a_new_client_id_is_refused_but_known_ones_resume_and_take_over()
    {
        InMemorySessionStore store = NewStore(o => o.MaxSessions = 2);
        SessionOpenResult a = await store.OpenAsync(Connect("a", expiry: 60));
        await store.OpenAsync(Connect("b", expiry: 0));

        Assert.True((await store.OpenAsync(Connect("c", expiry: 60))).IsSessionLimitReached);

        Assert.NotNull((await store.OpenAsync(Connect("a", expiry: 60))).TakenOver);
        await store.DisconnectAsync((await store.OpenAsync(Connect("b", expiry: 0))).Token, publishWill: false);
        Assert.Equal(1, store.Count);
        SessionOpenResult c = await store.OpenAsync(Connect("c", expiry: 60));
        Assert.False(c.IsSessionLimitReached);
        Assert.NotEqual(a.Token, c.Token);
    }

    [Fact]
    public async Task Room_for_a_subscription_counts_only_new_filters()
    {
        InMemorySessionStore store = NewStore();
        SessionToken token = (await store.OpenAsync(Connect("dev", expiry: 60))).Token;
        await store.SetSubscriptionAsync(token, new Subscription("a", default));
        await store.SetSubscriptionAsync(token, new Subscription("b", default));

        Assert.False(await store.HasRoomForSubscriptionAsync(token, "c", maxSubscriptions: 2));
        Assert.True(await store.HasRoomForSubscriptionAsync(token, "a", maxSubscriptions: 2));
        Assert.True(await store.HasRoomForSubscriptionAsync(token, "c", maxSubscriptions: 3));
        Assert.True(await store.HasRoomForSubscriptionAsync(token, "c", maxSubscriptions: 0));
    }

    private InMemorySessionStore NewStore(Action<SessionsOptions>? configure = null)
    {
        var options = new SessionsOptions();
        configure?.Invoke(options);
        return new InMemorySessionStore(Options.Create(options), _time);
    }

    [Fact]
    public async Task Another_identity_can_neither_take_over_a_connected_session_nor_clean_it()
    {
        InMemorySessionStore store = NewStore();
        SessionOpenResult alice = await store.OpenAsync(Connect("shared", expiry: 60, owner: "alice", will: Will("alice/will", 0)));
        await store.SetSubscriptionAsync(alice.Token, new Subscription("alice/#", default));

        SessionOpenResult bob = await store.OpenAsync(Connect("shared", expiry: 60, owner: "bob"));
        SessionOpenResult bobClean = await store.OpenAsync(Connect("shared", expiry: 0, cleanStart: true, owner: "bob"));
        SessionOpenResult anonymous = await store.OpenAsync(Connect("shared", expiry: 60));

        Assert.All([bob, bobClean, anonymous], refused =>
        {
            Assert.True(refused.OwnedByAnotherIdentity);
            Assert.Null(refused.TakenOver);
            Assert.Null(refused.WillToPublish);
        });
        SessionState state = (await store.GetAsync("shared"))!;
        Assert.Equal(("alice", alice.Token.Epoch, true), (state.Owner, state.Epoch, state.IsConnected));
        Assert.Equal("alice/#", Assert.Single(state.Subscriptions).TopicFilter);
        Assert.NotNull(state.Will);
    }

    [Fact]
    public async Task Another_identity_cannot_resume_an_offline_session_until_it_expired()
    {
        InMemorySessionStore store = NewStore();
        SessionOpenResult alice = await store.OpenAsync(Connect("shared", expiry: 60, owner: "alice"));
        await store.SetSubscriptionAsync(alice.Token, new Subscription("alice/#", default));
        await store.DisconnectAsync(alice.Token, publishWill: false);
        await store.EnqueueAsync("shared", OfflineQueueTests.Delivery("for alice"));

        Assert.True((await store.OpenAsync(Connect("shared", expiry: 60, owner: "bob"))).OwnedByAnotherIdentity);
        Assert.Equal(1, (await store.GetAsync("shared"))!.QueuedMessageCount);

        _time.Advance(TimeSpan.FromSeconds(61));
        SessionOpenResult bob = await store.OpenAsync(Connect("shared", expiry: 60, owner: "bob"));
        Assert.False(bob.OwnedByAnotherIdentity);
        Assert.False(bob.SessionPresent);
        SessionState state = (await store.GetAsync("shared"))!;
        Assert.Equal("bob", state.Owner);
        Assert.Empty(state.Subscriptions);
        Assert.Equal(0, state.QueuedMessageCount);
    }

    [Fact]
    public async Task The_owning_identity_takes_over_and_resumes_as_before()
    {
        InMemorySessionStore store = NewStore();
        SessionOpenResult first = await store.OpenAsync(Connect("shared", expiry: 60, owner: "alice"));

        SessionOpenResult second = await store.OpenAsync(Connect("shared", expiry: 60, owner: "alice"));
        Assert.False(second.OwnedByAnotherIdentity);
        Assert.Equal(first.Token, second.TakenOver);
        Assert.True(second.SessionPresent);

        await store.DisconnectAsync(second.Token, publishWill: false);
        SessionOpenResult third = await store.OpenAsync(Connect("shared", expiry: 60, owner: "alice"));
        Assert.True(third.SessionPresent);
    }

    private static SessionConnectRequest Connect(string clientId, uint expiry, bool cleanStart = false, WillMessage? will = null, string? node = null, string? owner = null) => new()
    {
        ClientId = clientId,
        SessionExpiryInterval = expiry,
        CleanStart = cleanStart,
        Will = will,
        NodeId = node,
        Owner = owner,
    };

    private static WillMessage Will(string topic, uint delay) =>
        new(new MqttApplicationMessage { Topic = topic, Payload = "gone"u8.ToArray() }, delay);
}
