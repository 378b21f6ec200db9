namespace AccessLayer.Sessions.Tests;

public class MessageExpiryTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Remaining_is_null_for_messages_without_expiry() =>
        Assert.Null(MessageExpiry.Remaining(null, T0, T0.AddDays(365)));

    [Theory]
    [InlineData(10u, 0.0, 10u)]
    [InlineData(10u, 3.5, 7u)]
    [InlineData(10u, 9.9, 1u)]
    [InlineData(10u, 10.0, 0u)]
    [InlineData(10u, 11.0, 0u)]
    [InlineData(0u, 0.0, 0u)]
    public void Remaining_rounds_up_and_hits_zero_at_expiry(uint interval, double elapsedSeconds, uint expected)
    {
        Assert.Equal(expected, MessageExpiry.Remaining(interval, T0, T0.AddSeconds(elapsedSeconds)));
        Assert.Equal(expected == 0, MessageExpiry.IsExpired(interval, T0, T0.AddSeconds(elapsedSeconds)));
    }

    [Fact]
    public void Remaining_treats_clock_going_backwards_as_no_time_passed() =>
        Assert.Equal(10u, MessageExpiry.Remaining(10, T0, T0.AddSeconds(-30)));
}
