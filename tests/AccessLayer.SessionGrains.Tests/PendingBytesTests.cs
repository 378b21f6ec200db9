using AccessLayer.SessionGrains.Durable;

namespace AccessLayer.SessionGrains.Tests;

public sealed class PendingBytesTests
{
    [Fact]
    public async Task Callers_past_the_budget_wait_in_order_until_bytes_are_released()
    {
        var budget = new PendingBytes(100);
        await budget.AcquireAsync(60, CancellationToken.None);
        var second = budget.AcquireAsync(60, CancellationToken.None).AsTask();
        // Fits, but must not overtake the caller ahead of it.
        var third = budget.AcquireAsync(10, CancellationToken.None).AsTask();
        Assert.False(second.IsCompleted);
        Assert.False(third.IsCompleted);

        budget.Release(60);
        await second.WaitAsync(TimeSpan.FromSeconds(10));
        await third.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(70, budget.Used);
    }

    [Fact]
    public async Task An_operation_larger_than_the_budget_is_let_in_alone()
    {
        var budget = new PendingBytes(100);
        await budget.AcquireAsync(10, CancellationToken.None);
        var large = budget.AcquireAsync(500, CancellationToken.None).AsTask();
        Assert.False(large.IsCompleted);

        budget.Release(10);
        await large.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(500, budget.Used);
    }

    [Fact]
    public async Task A_cancelled_waiter_takes_nothing_and_lets_those_behind_it_in()
    {
        var budget = new PendingBytes(100);
        await budget.AcquireAsync(50, CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var large = budget.AcquireAsync(80, cancel.Token).AsTask();
        var small = budget.AcquireAsync(20, CancellationToken.None).AsTask();

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => large);
        await small.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(70, budget.Used);
    }
}
