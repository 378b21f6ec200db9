namespace AccessLayer.Gateway.Tests.Conformance.Harness;

/// <summary>
/// How a test runs the gateway as its own process: the AccessLayer.Gateway.dll that the project
/// reference copies into the test output (with its runtimeconfig), run by the dotnet host.
/// </summary>
internal static class GatewayExecutable
{
    public static string Dll
    {
        get
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "AccessLayer.Gateway.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("the gateway is not in the test output", dll);
        }
    }

    /// <summary>The SDK sets DOTNET_HOST_PATH for test runs; the host on PATH is the fallback.</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}
