using AccessLayer.Gateway.Tests.Conformance.Harness;

namespace AccessLayer.Gateway.Tests.Conformance.HarnessTests;

public sealed class EventLogTests
{
    [Fact]
    public async Task WaitUntil_returns_once_an_added_item_satisfies_the_condition()
    {
        var log = new EventLog<int>();
        var waiting = log.WaitUntilAsync(items => items.Contains(3), Budget.Wait, () => "3");

        log.Add(1);
        Assert.False(waiting.IsCompleted);
        log.Add(3);

        Assert.Equal([1, 3], await waiting);
    }

    [Fact]
    public async Task WaitUntil_times_out_with_the_description()
    {
        var log = new EventLog<int>();

        var error = await Assert.ThrowsAsync<TimeoutException>(() => log.WaitUntilAsync(items => items.Count > 0, TimeSpan.FromMilliseconds(50), () => "an item"));

        Assert.StartsWith("an item", error.Message);
    }

    [Fact]
    public async Task WaitUntil_fails_once_the_log_is_completed()
    {
        var log = new EventLog<int>();
        var waiting = log.WaitUntilAsync(items => items.Count > 0, TimeSpan.FromSeconds(30), () => "an item");

        log.Complete();

        await Assert.ThrowsAsync<InvalidOperationException>(() => waiting);
    }
}
