using AccessLayer.Gateway.Mlp;
using AccessLayer.Gateway.Mlp.Push;
using Microsoft.Extensions.Options;

namespace AccessLayer.Mlp.Tests;

public sealed class InMemoryMlpSessionStoreTests
{
    private static InMemoryMlpSessionStore Store(int maxQueued = 100) => new(Options.Create(new MlpOptions { MaxQueuedPushes = maxQueued }));

    private static MlpPushMessage Message(string text) => new([], System.Text.Encoding.UTF8.GetBytes(text), DateTimeOffset.UnixEpoch);

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
    public async Task A_resume_ticket_from_another_user_does_not_resume()
    {
        var store = Store();
        var first = await store.OpenAsync("d", "alice", null, 0);
        var other = await store.OpenAsync("d", "mallory", first.Handle.SessionId, 0);
        Assert.False(other.Resumed);
        Assert.Equal(["d"], await store.GetUserDevicesAsync("alice"));
    }
}
