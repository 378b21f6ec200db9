using AccessLayer.Client.Internal;

namespace AccessLayer.Mlp.Tests;

/// <summary>The HELLO → WELCOME round-trip sample of a link, less the time the gateway held the HELLO (WELCOME's hello_delay_us).</summary>
public sealed class MlpLinkHandshakeRoundTripTests
{
    [Theory]
    [InlineData(250_000, 0, 250_000)]
    [InlineData(250_000, 200_000, 50_000)]
    [InlineData(250_000, 250_000, 0)]
    public void The_time_the_gateway_held_the_HELLO_is_taken_off(long measuredUs, uint heldUs, long expectedUs) =>
        Assert.Equal(TimeSpan.FromMicroseconds(expectedUs), MlpLink.HandshakeRoundTrip(TimeSpan.FromMicroseconds(measuredUs), heldUs));

    [Fact]
    public void A_held_time_longer_than_the_measured_round_trip_is_not_taken_off() =>
        Assert.Equal(TimeSpan.FromMilliseconds(80), MlpLink.HandshakeRoundTrip(TimeSpan.FromMilliseconds(80), 5_000_000));
}
