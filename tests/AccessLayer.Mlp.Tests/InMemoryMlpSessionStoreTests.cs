using AccessLayer.Gateway.Mlp;
using AccessLayer.Gateway.Mlp.Push;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AccessLayer.Mlp.Tests;

public sealed class InMemoryMlpSessionStoreTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private InMemoryMlpSessionStore Store(int maxQueued = 100) => Store(new MlpOptions { MaxQueuedPushes = maxQueued });

    private InMemoryMlpSessionStore Store(MlpOptions options) => new(Options.Create(options), _time);

    private static MlpPushMessage Message(string text, string? userId = null) => new([], System.Text.Encoding.UTF8.GetBytes(text), DateTimeOffset.UnixEpoch, userId);

    private MlpPushMessage Sized(int bytes, string? userId = null) => new([], new byte[bytes], _time.GetUtcNow(), userId);

    private static string Text(MlpSequencedPush push) => System.Text.Encoding.UTF8.GetString(push.Message.Body.Span);

    [Fact]
    public async Task Pushes_are_numbered_from_1_without_gaps_and_only_while_the_window_has_room()
    {
        var store = Store();
        var session = (await store.OpenAsync("d", "u", null, 0)).Handle;
        for (var i = 1; i <= 5; i++)
            await store.EnqueueAsync("d", Message("m" + i));

        var first = await store.TakeAsync(session, window: 3);
        Assert.Equal([1ul, 2ul, 3ul], first.Select(p => p.Sequence));
        Assert.Empty(await store.TakeAsync(session, window: 3));

        Assert.Equal(2, await store.AcknowledgeAsync(session, 2));
        Assert.Equal([4ul, 5ul], (await store.TakeAsync(session, window: 3)).Select(p => p.Sequence));
        Assert.Equal(3, await store.CountAsync("d"));
    }

    [Fact]
    public async Task Resuming_redelivers_what_was_not_acknowledged_after_the_implicit_ack()
    {
        var store = Store();
        var first = await store.OpenAsync("d", "u", null, 0);
        for (var i = 1; i <= 3; i++)
            await store.EnqueueAsync("d", Message("m" + i));
        await store.TakeAsync(first.Handle, 10);

        var resumed = await store.OpenAsync("d", "u", first.Handle.SessionId, lastProcessedSequence: 1);

        Assert.True(resumed.Resumed);
        Assert.Equal(first.Handle.SessionId, resumed.Handle.SessionId);
        Assert.Equal([2ul, 3ul], resumed.Redeliver.Select(p => p.Sequence));
        Assert.All(resumed.Redeliver, p => Assert.True(p.Redelivered));
        await store.EnqueueAsync("d", Message("m4"));
        Assert.Equal(4ul, (await store.TakeAsync(resumed.Handle, 10)).Single().Sequence);
    }

    [Fact]
    public async Task A_new_session_renumbers_unacknowledged_pushes_from_1()
    {
        var store = Store();
        var first = await store.OpenAsync("d", "u", null, 0);
        await store.EnqueueAsync("d", Message("a"));
        await store.EnqueueAsync("d", Message("b"));
        await store.TakeAsync(first.Handle, 1);

        var fresh = await store.OpenAsync("d", "u", resumeSessionId: null, 0);

        Assert.False(fresh.Resumed);
        Assert.NotEqual(first.Handle.SessionId, fresh.Handle.SessionId);
        var taken = await store.TakeAsync(fresh.Handle, 10);
        Assert.Equal([1ul, 2ul], taken.Select(p => p.Sequence));
        Assert.Equal(["a", "b"], taken.Select(Text));
        Assert.All(taken, p => Assert.False(p.Redelivered));
    }

    [Fact]
    public async Task A_taken_over_connection_takes_nothing()
    {
        var store = Store();
        var old = await store.OpenAsync("d", "u", null, 0);
        var current = await store.OpenAsync("d", "u", old.Handle.SessionId, 0);
        await store.EnqueueAsync("d", Message("x"));

        Assert.Empty(await store.TakeAsync(old.Handle, 10));
        Assert.Single(await store.TakeAsync(current.Handle, 10));
    }

    [Fact]
    public async Task The_bound_drops_the_oldest_waiting_push_and_never_a_numbered_one()
    {
        var store = Store(maxQueued: 2);
        var session = (await store.OpenAsync("d", "u", null, 0)).Handle;
        Assert.Equal(MlpEnqueueOutcome.Queued, await store.EnqueueAsync("d", Message("1")));
        Assert.Equal(MlpEnqueueOutcome.Queued, await store.EnqueueAsync("d", Message("2")));
        Assert.Equal(MlpEnqueueOutcome.QueuedDroppedOldest, await store.EnqueueAsync("d", Message("3")));
        Assert.Equal(["2", "3"], (await store.TakeAsync(session, 10)).Select(Text));

        Assert.Equal(MlpEnqueueOutcome.Rejected, await store.EnqueueAsync("d", Message("4")));
    }

    [Fact]
    public async Task A_device_that_logs_in_as_another_user_leaves_the_old_users_devices_and_loses_their_pushes()
    {
        // A shared or resold phone: what was addressed to alice must not reach mallory, sent or not.
        var store = Store();
        var first = await store.OpenAsync("d", "alice", null, 0);
        await store.EnqueueAsync("d", Message("alice-sent", "alice"));
        await store.TakeAsync(first.Handle, 10);
        await store.EnqueueAsync("d", Message("alice-waiting", "alice"));
        await store.EnqueueAsync("d", Message("for-the-device"));

        var other = await store.OpenAsync("d", "mallory", first.Handle.SessionId, 0);

        Assert.False(other.Resumed);
        Assert.Empty(await store.GetUserDevicesAsync("alice"));
        Assert.Equal(["d"], await store.GetUserDevicesAsync("mallory"));
        Assert.Equal(["for-the-device"], (await store.TakeAsync(other.Handle, 10)).Select(Text));
        Assert.Equal("for-the-device".Length, store.Bytes);
    }

    [Fact]
    public async Task Logging_in_again_as_the_same_user_keeps_the_users_pushes()
    {
        var store = Store();
        await store.OpenAsync("d", "alice", null, 0);
        await store.EnqueueAsync("d", Message("a", "alice"));

        var again = await store.OpenAsync("d", "alice", null, 0);

        Assert.Equal(["a"], (await store.TakeAsync(again.Handle, 10)).Select(Text));
        Assert.Equal(["d"], await store.GetUserDevicesAsync("alice"));
    }

    [Fact]
    public async Task The_byte_bound_per_device_drops_the_oldest_waiting_pushes_to_make_room()
    {
        var store = Store(new MlpOptions { MaxQueuedPushBytes = 100_000 });
        Assert.Equal(MlpEnqueueOutcome.Queued, await store.EnqueueAsync("d", Sized(40_000)));
        Assert.Equal(MlpEnqueueOutcome.Queued, await store.EnqueueAsync("d", Sized(40_000)));

        Assert.Equal(MlpEnqueueOutcome.QueuedDroppedOldest, await store.EnqueueAsync("d", Sized(40_000)));

        Assert.Equal(2, await store.CountAsync("d"));
        Assert.Equal(80_000, store.Bytes);
        Assert.Equal(MlpEnqueueOutcome.Rejected, await store.EnqueueAsync("d", Sized(100_001)));
    }

    [Fact]
    public async Task The_store_byte_bound_refuses_new_pushes_and_evicts_no_other_devices_pushes()
    {
        var store = Store(new MlpOptions { MaxQueuedPushBytes = 100_000, MaxPushStoreBytes = 150_000 });
        Assert.Equal(MlpEnqueueOutcome.Queued, await store.EnqueueAsync("a", Sized(90_000)));

        Assert.Equal(MlpEnqueueOutcome.RejectedStoreFull, await store.EnqueueAsync("b", Sized(90_000)));

        Assert.Equal(1, await store.CountAsync("a"));
        Assert.Equal(0, await store.CountAsync("b"));
        Assert.Equal(90_000, store.Bytes);
    }

    [Fact]
    public async Task Acknowledged_pushes_give_their_bytes_back()
    {
        var store = Store(new MlpOptions { MaxQueuedPushBytes = 100_000, MaxPushStoreBytes = 100_000 });
        var session = (await store.OpenAsync("d", "u", null, 0)).Handle;
        await store.EnqueueAsync("d", Sized(90_000));
        await store.TakeAsync(session, 10);
        Assert.Equal(MlpEnqueueOutcome.Rejected, await store.EnqueueAsync("d", Sized(20_000)));

        await store.AcknowledgeAsync(session, 1);

        Assert.Equal(0, store.Bytes);
        Assert.Equal(MlpEnqueueOutcome.Queued, await store.EnqueueAsync("d", Sized(20_000)));
    }

    [Fact]
    public async Task Pushes_to_unknown_devices_past_the_device_bound_are_refused_but_connecting_devices_get_their_session()
    {
        var store = Store(new MlpOptions { MaxPushDevices = 2 });
        Assert.Equal(MlpEnqueueOutcome.Queued, await store.EnqueueAsync("a", Message("1")));
        Assert.Equal(MlpEnqueueOutcome.Queued, await store.EnqueueAsync("b", Message("1")));

        Assert.Equal(MlpEnqueueOutcome.RejectedTooManyDevices, await store.EnqueueAsync("c", Message("1")));
        Assert.Equal(MlpEnqueueOutcome.Queued, await store.EnqueueAsync("a", Message("2")));
        Assert.Equal(2, store.DeviceCount);

        // A device that connects is bounded by connection governance, not refused its session here.
        var session = (await store.OpenAsync("c", "u", null, 0)).Handle;
        Assert.Equal(MlpEnqueueOutcome.Queued, await store.EnqueueAsync("c", Message("1")));
        Assert.Single(await store.TakeAsync(session, 10));
    }

    [Fact]
    public async Task Expiry_drops_old_pushes_of_offline_devices_and_forgets_them_but_keeps_connected_ones()
    {
        var store = Store(new MlpOptions { PushExpiry = TimeSpan.FromHours(1) });
        await store.OpenAsync("online", "u", null, 0);
        await store.EnqueueAsync("online", Sized(10));
        await store.EnqueueAsync("offline", Sized(10));
        _time.Advance(TimeSpan.FromMinutes(40));
        await store.EnqueueAsync("offline", Sized(20));
        Assert.Equal(0, store.Expire(_ => false));

        _time.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(1, store.Expire(device => device == "online"));

        Assert.Equal(1, await store.CountAsync("offline"));
        Assert.Equal(1, await store.CountAsync("online"));
        Assert.Equal(30, store.Bytes);

        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(1, store.Expire(device => device == "online"));
        Assert.Equal(1, store.DeviceCount);
        Assert.Empty(await store.GetUserDevicesAsync("nobody"));
    }

    [Fact]
    public async Task An_expired_device_leaves_its_users_devices()
    {
        var store = Store(new MlpOptions { PushExpiry = TimeSpan.FromHours(1) });
        await store.OpenAsync("d", "alice", null, 0);
        _time.Advance(TimeSpan.FromHours(2));

        store.Expire(_ => false);

        Assert.Equal(0, store.DeviceCount);
        Assert.Empty(await store.GetUserDevicesAsync("alice"));
    }

    [Fact]
    public async Task An_exported_session_imported_into_another_store_resumes_with_its_sequence_and_unacknowledged_pushes()
    {
        // What a fleet takeover does: the session leaves node A's store and continues in node B's.
        var a = Store();
        var first = await a.OpenAsync("d", "u", null, 0);
        for (var i = 1; i <= 3; i++)
            await a.EnqueueAsync("d", Message("m" + i));
        await a.TakeAsync(first.Handle, window: 2);

        var snapshot = a.Export("d")!;
        var b = Store();
        Assert.Equal(0, b.Import("d", snapshot, [Message("m4")]));
        var resumed = await b.OpenAsync("d", "u", first.Handle.SessionId, lastProcessedSequence: 1);

        Assert.Equal((0, 0L, 0), (a.DeviceCount, a.Bytes, await a.CountAsync("d")));
        Assert.Empty(await a.GetUserDevicesAsync("u"));
        Assert.True(resumed.Resumed);
        Assert.Equal([(2ul, "m2")], resumed.Redeliver.Select(p => (p.Sequence, Text(p))));
        Assert.Equal([(3ul, "m3"), (4ul, "m4")], (await b.TakeAsync(resumed.Handle, 10)).Select(p => (p.Sequence, Text(p))));
        Assert.Equal(["d"], await b.GetUserDevicesAsync("u"));
    }

    [Fact]
    public async Task A_session_imported_into_a_live_one_joins_its_waiting_pushes_to_be_numbered_afresh()
    {
        var a = Store();
        var old = await a.OpenAsync("d", "u", null, 0);
        await a.EnqueueAsync("d", Message("old1"));
        await a.TakeAsync(old.Handle, 10);
        await a.EnqueueAsync("d", Message("old2"));
        var snapshot = a.Export("d")!;

        var b = Store();
        var live = await b.OpenAsync("d", "u", null, 0);
        await b.EnqueueAsync("d", Message("live"));
        b.Import("d", snapshot, []);

        Assert.Equal([(1ul, "live"), (2ul, "old1"), (3ul, "old2")], (await b.TakeAsync(live.Handle, 10)).Select(p => (p.Sequence, Text(p))));
    }

    [Fact]
    public async Task Imported_pushes_keep_to_the_bound_and_say_how_many_were_dropped()
    {
        var store = Store(maxQueued: 2);
        Assert.Equal(1, store.Import("d", null, [Message("p1"), Message("p2"), Message("p3")]));
        var session = await store.OpenAsync("d", "u", null, 0);

        Assert.Equal(["p2", "p3"], (await store.TakeAsync(session.Handle, 10)).Select(Text));
        Assert.Null(store.Export("nobody"));
    }
}
