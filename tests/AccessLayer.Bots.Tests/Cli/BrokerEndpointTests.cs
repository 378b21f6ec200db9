using AccessLayer.Bots.Cli;

namespace AccessLayer.Bots.Tests.Cli;

public sealed class BrokerEndpointTests
{
    [Theory]
    [InlineData("127.0.0.1:1883", "127.0.0.1", 1883)]
    [InlineData("broker.example:8883", "broker.example", 8883)]
    [InlineData("[::1]:1884", "::1", 1884)]
    public void Host_and_port_parse(string text, string host, int port)
    {
        Assert.True(BrokerEndpoint.TryParse(text, out var endpoint));
        Assert.Equal(new BrokerEndpoint(host, port), endpoint);
        Assert.Equal(text, endpoint.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("1883")]
    [InlineData(":1883")]
    [InlineData("host:")]
    [InlineData("host:65536")]
    [InlineData("host:-1")]
    [InlineData("::1:1883")]
    [InlineData("[]:1883")]
    public void Anything_else_is_refused(string text) => Assert.False(BrokerEndpoint.TryParse(text, out _));

    [Fact]
    public void A_list_keeps_its_order_and_names_the_first_bad_entry()
    {
        Assert.True(BrokerEndpoint.TryParseList("a:1, b:2 ,c:3", out var endpoints, out _));
        Assert.Equal(["a:1", "b:2", "c:3"], endpoints.Select(e => e.ToString()));

        Assert.False(BrokerEndpoint.TryParseList("a:1,b,c:3", out _, out var invalid));
        Assert.Equal("b", invalid);
        Assert.False(BrokerEndpoint.TryParseList(" , ", out _, out _));
    }
}
