using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Tests.Broker;
using AccessLayer.Gateway.Tests.Security;
using Microsoft.Extensions.Options;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Gateway.Tests.Management;

public sealed class ManagementOptionsValidatorTests
{
    [Theory]
    [InlineData("Http:Port")]
    [InlineData("Http:TlsPort")]
    public async Task A_management_port_shared_with_a_device_port_stops_the_gateway_at_start(string devicePort)
    {
        using var pki = TestPki.Create();
        var port = FreePorts.Next();
        var app = GatewayApp.Build(["--Mqtt:Port=0", "--Mqtt:TlsPort=0", "--Mlp:Port=0", "--Http:Port=0", "--Http:TlsPort=0", .. pki.Settings("None"), $"--{devicePort}={port}", $"--Management:Port={port}"]);
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
        Assert.Contains("Management:Port", error.Message, StringComparison.Ordinal);
        await app.DisposeAsync();
    }

    [Fact]
    public async Task An_unreadable_token_file_stops_the_gateway_at_start()
    {
        var app = GatewayApp.Build(["--Mqtt:Port=0", "--Mlp:Port=0", "--Http:Port=0", "--Management:Port=0", "--Management:TokenFile=/nonexistent/tokens"]);
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
        Assert.Contains("Management:TokenFile", error.Message, StringComparison.Ordinal);
        await app.DisposeAsync();
    }
}
