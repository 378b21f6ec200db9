using AccessLayer.Gateway.Hosting;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Tests.Dashboard;

/// <summary>The <c>Dashboard</c> section is checked at start: a sample interval or history out of range stops the gateway naming it.</summary>
public sealed class DashboardOptionsTests
{
    [Theory]
    [InlineData("--Dashboard:SampleInterval=00:00:00", "SampleInterval")]
    [InlineData("--Dashboard:SampleInterval=00:05:00", "SampleInterval")]
    [InlineData("--Dashboard:History=00:00:01", "History")]
    [InlineData("--Dashboard:History=1.00:00:00", "History")]
    public async Task An_out_of_range_setting_stops_the_gateway_at_start(string setting, string key)
    {
        var app = GatewayApp.Build(["--Mqtt:Port=0", "--Mlp:Port=0", "--Http:Port=0", "--Management:Port=0", setting]);
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
        await app.DisposeAsync();
    }

    [Fact]
    public void The_ring_holds_the_history_in_samples()
    {
        Assert.Equal(600, new Gateway.Dashboard.DashboardOptions().Capacity);
        Assert.Equal(1200, new Gateway.Dashboard.DashboardOptions { SampleInterval = TimeSpan.FromMilliseconds(500) }.Capacity);
    }
}
