using AccessLayer.Gateway.Mlp;

namespace AccessLayer.Mlp.Tests;

public sealed class MlpOptionsValidatorTests
{
    private static readonly MlpOptionsValidator Validator = new();

    [Theory]
    [InlineData("s")]
    [InlineData("fifteen-chars!!")]
    public void A_ticket_secret_shorter_than_16_characters_is_refused_with_the_setting_named(string secret)
    {
        var result = Validator.Validate(null, new MlpOptions { TicketSecret = secret });

        Assert.True(result.Failed);
        Assert.Contains("Mlp:TicketSecret", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("sixteen-chars!!!")]
    [InlineData("test-ticket-secret")]
    public void An_empty_or_long_enough_ticket_secret_is_accepted(string secret) =>
        Assert.True(Validator.Validate(null, new MlpOptions { TicketSecret = secret }).Succeeded);

    [Theory]
    [InlineData(0, true)]
    [InlineData(5, true)]
    [InlineData(50, true)]
    [InlineData(200, true)]
    [InlineData(1, false)]
    [InlineData(201, false)]
    public void The_RTO_floor_is_off_or_within_the_kernels_bounds(int milliseconds, bool valid)
    {
        var result = Validator.Validate(null, new MlpOptions { TcpRtoMin = TimeSpan.FromMilliseconds(milliseconds) });

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
            Assert.Contains("Mlp:TcpRtoMin", result.FailureMessage, StringComparison.Ordinal);
    }
}
