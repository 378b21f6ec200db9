namespace AccessLayer.Sessions.Tests;

public class SessionsOptionsValidatorTests
{
    [Fact]
    public void Defaults_are_valid_and_match_documented_values()
    {
        var options = new SessionsOptions();
        Assert.True(new SessionsOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(1000, options.MaxQueuedMessagesPerSession);
        Assert.Equal(QueueDropPolicy.DropOldest, options.QueueDropPolicy);
        Assert.False(options.QueueQos0Messages);
    }

    [Theory]
    [InlineData(-1, 100, 64)]
    [InlineData(1_000_001, 100, 64)]
    [InlineData(10, 0, 64)]
    [InlineData(10, 65_536, 64)]
    [InlineData(10, 100, 0)]
    [InlineData(10, 100, 1025)]
    public void Validate_rejects_out_of_range_bounds(int queued, int inflight, int levels)
    {
        var options = new SessionsOptions { MaxQueuedMessagesPerSession = queued, MaxInflightMessages = inflight, MaxTopicLevels = levels };
        var result = new SessionsOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Single(result.Failures!);
    }

    [Fact]
    public void Validate_rejects_unknown_drop_policy()
    {
        var options = new SessionsOptions { QueueDropPolicy = (QueueDropPolicy)7 };
        Assert.Contains("QueueDropPolicy", new SessionsOptionsValidator().Validate(null, options).FailureMessage, StringComparison.Ordinal);
    }
}
