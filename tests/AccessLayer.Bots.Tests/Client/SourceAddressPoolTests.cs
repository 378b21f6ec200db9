using System.Net;
using AccessLayer.Bots.Client;

namespace AccessLayer.Bots.Tests.Client;

public sealed class SourceAddressPoolTests
{
    [Theory]
    [InlineData(0, "127.0.0.2")]
    [InlineData(1, "127.0.0.3")]
    [InlineData(253, "127.0.0.255")]
    [InlineData(254, "127.0.1.0")]
    [InlineData(65_534, "127.1.0.0")]
    public void Loopback_addresses_start_at_127_0_0_2_and_carry(int n, string expected) =>
        Assert.Equal(IPAddress.Parse(expected), SourceAddressPool.LoopbackAddress(n));

    [Fact]
    public void Clients_cycle_over_the_pool_from_its_offset()
    {
        var pool = new SourceAddressPool(3, offset: 10);
        Assert.Equal(SourceAddressPool.LoopbackAddress(10), pool.For(0));
        Assert.Equal(SourceAddressPool.LoopbackAddress(12), pool.For(2));
        Assert.Equal(SourceAddressPool.LoopbackAddress(10), pool.For(3));
    }

    [Fact]
    public void An_empty_pool_leaves_the_choice_to_the_kernel() =>
        Assert.Null(new SourceAddressPool(0).For(5));
}
