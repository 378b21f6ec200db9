using System.Diagnostics.Metrics;
using System.Net;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Tests.Governance;

public sealed class ConnectionGovernorTests : IDisposable
{
    private static readonly IPEndPoint Remote = new(IPAddress.Loopback, 5555);
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly GatewayReadiness _readiness = new();

    private ConnectionGovernor Create(LimitsOptions limits) =>
        new(Options.Create(limits), _readiness, new GatewayMetrics(_services.GetRequiredService<IMeterFactory>()), NullLogger<ConnectionGovernor>.Instance);

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(15)]
    [InlineData(100)]
    [InlineData(1234)]
    public void The_per_IP_bucket_refills_exactly_the_configured_rate(int rate)
    {
        // One token every 100 ms whatever the rate was ten a second for a rate of 1, and 10 for 15.
        var (tokens, period) = ConnectionGovernor.RefillFor(rate);
        Assert.InRange(tokens / period.TotalSeconds, rate * 0.9999, rate * 1.0001); // tick rounding only
        Assert.InRange(period, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void The_node_cap_counts_every_listener_and_a_release_frees_a_slot()
    {
        using var governor = Create(new LimitsOptions { MaxConnections = 2 });
        Assert.Equal(Admission.Admitted, governor.TryAdmit("tcp", Remote));
        Assert.Equal(Admission.Admitted, governor.TryAdmit("ws", Remote));
        Assert.Equal(Admission.MaxConnections, governor.TryAdmit("tls", Remote));
        governor.Release("ws");
        Assert.Equal(Admission.Admitted, governor.TryAdmit("tls", Remote));
        Assert.Equal(2, governor.ActiveConnections);
    }

    [Fact]
    public void A_listener_cap_refuses_only_that_listener_and_gives_the_node_slot_back()
    {
        using var governor = Create(new LimitsOptions { MaxConnectionsPerListener = { ["tcp"] = 1 } });
        Assert.Equal(Admission.Admitted, governor.TryAdmit("tcp", Remote));
        Assert.Equal(Admission.ListenerFull, governor.TryAdmit("TCP", Remote));
        Assert.Equal(Admission.Admitted, governor.TryAdmit("tls", Remote));
        Assert.Equal((2, 1, 1), (governor.ActiveConnections, governor.ActiveOn("tcp"), governor.ActiveOn("tls")));
    }

    [Fact]
    public void The_per_IP_rate_holds_each_address_to_its_burst()
    {
        using var governor = Create(new LimitsOptions { ConnectRatePerIp = 1, ConnectBurstPerIp = 3 });
        var other = new IPEndPoint(IPAddress.Parse("127.0.0.9"), 1);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(Admission.Admitted, governor.TryAdmit("tcp", Remote));
        }

        Assert.Equal(Admission.RateLimited, governor.TryAdmit("tcp", Remote));
        Assert.Equal(Admission.Admitted, governor.TryAdmit("tcp", other));
        Assert.Equal(4, governor.ActiveConnections);
    }

    [Fact]
    public void Nothing_is_admitted_while_draining()
    {
        using var governor = Create(new LimitsOptions());
        _readiness.BeginDrain();
        Assert.Equal(Admission.Draining, governor.TryAdmit("tcp", Remote));
        _readiness.EndDrain();
        Assert.Equal(Admission.Admitted, governor.TryAdmit("tcp", Remote));
    }

    public void Dispose() => _services.Dispose();
}
