using System.Net;
using AccessLayer.Gateway.Transport;

namespace AccessLayer.Gateway.Tests.Transport;

public sealed class LeanConnectionListenerFactoryTests
{
    [Fact]
    public void CanBind_takes_only_lean_endpoints()
    {
        var factory = new LeanConnectionListenerFactory();

        Assert.True(factory.CanBind(new LeanEndPoint(IPAddress.Loopback, 1883)));
        Assert.False(factory.CanBind(new IPEndPoint(IPAddress.Loopback, 1883)));
        Assert.False(factory.CanBind(new DnsEndPoint("localhost", 1883)));
    }

    [Fact]
    public async Task BindAsync_reports_the_port_the_kernel_picked_as_a_lean_endpoint()
    {
        var factory = new LeanConnectionListenerFactory();

        await using var listener = await factory.BindAsync(new LeanEndPoint(IPAddress.Loopback, 0));

        var bound = Assert.IsType<LeanEndPoint>(listener.EndPoint);
        Assert.NotEqual(0, bound.Port);
    }
}
