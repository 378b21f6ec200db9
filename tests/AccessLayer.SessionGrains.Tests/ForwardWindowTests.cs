using AccessLayer.SessionGrains.Forwarding;

namespace AccessLayer.SessionGrains.Tests;

/// <summary>The unanswered batches of one forward link, bounded in bytes and in count.</summary>
public sealed class ForwardWindowTests
{
    [Fact]
    public async Task Small_batches_go_until_the_count_bound_and_the_next_waits_for_an_answer()
    {
        var window = new ForwardWindow(maxBytes: 1_000_000, maxBatches: 4);
        for (var i = 0; i < 4; i++)
        {
            Assert.True(await window.TakeAsync(10, CancellationToken.None));
        }

        var fifth = window.TakeAsync(10, CancellationToken.None).AsTask();
        Assert.False(fifth.IsCompleted);

        Assert.True(window.Answered(1));
        Assert.True(await fifth);
        Assert.Equal(4, window.Unanswered);
    }

    [Fact]
    public async Task A_batch_past_the_byte_bound_waits_until_enough_is_answered()
    {
        var window = new ForwardWindow(maxBytes: 100, maxBatches: 64);
        Assert.True(await window.TakeAsync(60, CancellationToken.None));
        Assert.True(await window.TakeAsync(30, CancellationToken.None));

        var third = window.TakeAsync(50, CancellationToken.None).AsTask();
        Assert.False(third.IsCompleted);

        Assert.True(window.Answered(1));
        Assert.True(await third);
        Assert.Equal(2, window.Unanswered);
    }

    [Fact]
    public async Task A_batch_larger_than_the_byte_bound_goes_alone()
    {
        var window = new ForwardWindow(maxBytes: 100, maxBatches: 64);
        Assert.True(await window.TakeAsync(500, CancellationToken.None));

        var next = window.TakeAsync(1, CancellationToken.None).AsTask();
        Assert.False(next.IsCompleted);
        window.Answered(1);
        Assert.True(await next);
    }

    [Fact]
    public async Task More_answers_than_batches_out_are_refused()
    {
        var window = new ForwardWindow(maxBytes: 100, maxBatches: 64);
        Assert.True(await window.TakeAsync(1, CancellationToken.None));

        Assert.False(window.Answered(2));
    }

    [Fact]
    public async Task Closing_ends_a_waiting_take_and_every_later_one_with_false()
    {
        var window = new ForwardWindow(maxBytes: 100, maxBatches: 1);
        Assert.True(await window.TakeAsync(1, CancellationToken.None));
        var waiting = window.TakeAsync(1, CancellationToken.None).AsTask();

        window.Close();

        Assert.False(await waiting);
        Assert.False(await window.TakeAsync(1, CancellationToken.None));
    }

    [Fact]
    public async Task A_cancelled_take_leaves_room_for_the_next_sender()
    {
        var window = new ForwardWindow(maxBytes: 100, maxBatches: 1);
        Assert.True(await window.TakeAsync(1, CancellationToken.None));
        using var cancel = new CancellationTokenSource();
        var cancelled = window.TakeAsync(1, cancel.Token).AsTask();

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

        var next = window.TakeAsync(1, CancellationToken.None).AsTask();
        window.Answered(1);
        Assert.True(await next);
    }
}
