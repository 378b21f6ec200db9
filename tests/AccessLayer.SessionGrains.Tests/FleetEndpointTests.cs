using AccessLayer.SessionGrains.Hosting;

namespace AccessLayer.SessionGrains.Tests;

public sealed class FleetEndpointTests
{
    [Theory]
    [InlineData("127.0.0.1:1883", "127.0.0.1", 1883)]
    [InlineData("[::1]:7000", "::1", 7000)]
    [InlineData("node-2.example:8883", "node-2.example", 8883)]
    public void Host_and_port_parse(string value, string host, int port)
    {
        Assert.True(FleetEndpoint.TryParse(value, out var parsedHost, out var parsedPort));
        Assert.Equal(host, parsedHost);
        Assert.Equal(port, parsedPort);
        Assert.Equal(value, FleetEndpoint.Format(parsedHost, parsedPort));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData(":1883")]
    [InlineData("host:0")]
    [InlineData("host:65536")]
    [InlineData("host:-1")]
    public void Anything_else_does_not(string value) => Assert.False(FleetEndpoint.TryParse(value, out _, out _));
}
