using AccessLayer.Gateway.Governance;
using Microsoft.Extensions.Time.Testing;

namespace AccessLayer.Gateway.Tests.Governance;

public sealed class TokenBucketTests
{
    [Fact]
    public void A_full_bucket_allows_its_capacity_then_refills_at_the_rate_up_to_the_capacity()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(ratePerSecond: 10, capacity: 5, time.GetTimestamp());
        for (var i = 0; i < 5; i++)
        {
            Assert.True(bucket.TryTake(1, time.GetTimestamp(), time));
        }

        Assert.False(bucket.TryTake(1, time.GetTimestamp(), time));
        time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.True(bucket.TryTake(2, time.GetTimestamp(), time));
        Assert.False(bucket.TryTake(1, time.GetTimestamp(), time));

        time.Advance(TimeSpan.FromHours(1));
        Assert.True(bucket.TryTake(5, time.GetTimestamp(), time));
        Assert.False(bucket.TryTake(0.5, time.GetTimestamp(), time));
    }

    [Fact]
    public void A_request_larger_than_what_is_there_takes_nothing()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(100, 100, time.GetTimestamp());
        Assert.False(bucket.TryTake(101, time.GetTimestamp(), time));
        Assert.True(bucket.TryTake(100, time.GetTimestamp(), time));
    }

    [Fact]
    public void A_default_bucket_is_disabled()
    {
        Assert.False(default(TokenBucket).IsEnabled);
        Assert.True(new TokenBucket(1, 1, 0).IsEnabled);
    }
}
