using AccessLayer.Gateway.Tests.Conformance.Harness;

namespace AccessLayer.Gateway.Tests.Deploy;

/// <summary>The ReadyToRun check the Dockerfile's publish test relies on tells a precompiled assembly from a plain one.</summary>
public sealed class ReadyToRunImageTests
{
    [Fact]
    public void The_runtimes_corelib_is_ready_to_run_and_the_plain_gateway_build_is_not()
    {
        // The shared framework ships precompiled; the test output's gateway is the plain `dotnet build`, IL only.
        Assert.True(ReadyToRunImage.Is(typeof(object).Assembly.Location));
        Assert.False(ReadyToRunImage.Is(GatewayExecutable.Dll));
    }
}
