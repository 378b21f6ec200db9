using System.Diagnostics;
using System.Text.Json;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Lab.Tests;

/// <summary>
/// The weak-network lab end to end (lab/run.sh, docs/benchmarks-weak-network.md): its shortest scenario, a
/// clean path with one 25 s blackhole, with real namespaces, veth pairs, iptables and the gateway as a child
/// process. Needs root and iptables (test.sh installs it); skipped with the reason otherwise.
/// </summary>
public sealed class LabRunnerTests
{
    [LabFact]
    public async Task Blackhole_scenario_creates_its_namespaces_finds_the_dead_link_and_removes_everything()
    {
        var configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        var lab = Path.Combine(RepositoryRoot.Path, "lab", "AccessLayer.Lab", "bin", configuration, "net10.0", "AccessLayer.Lab.dll");
        var json = Path.Combine(Path.GetTempPath(), $"lab-{Guid.NewGuid():N}.json");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { lab, "--scenario", "blackhole", "--json", json })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        try
        {
            await process.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("the lab did not finish within 150 s: " + await errors);
        }

        var log = await output + await errors;
        Assert.True(process.ExitCode == 0, log);
        var results = JsonSerializer.Deserialize<JsonElement>(await File.ReadAllTextAsync(json));
        File.Delete(json);
        var result = results[0];
        Assert.Equal(JsonValueKind.Null, result.GetProperty("Broken").ValueKind);
        var namespaces = result.GetProperty("Namespaces").EnumerateArray().Select(n => n.GetString()!).ToList();
        Assert.Equal(2, namespaces.Count);
        // The scenario ran inside them, and they are gone now (with their veth pairs).
        Assert.Contains($"{namespaces[0]}, {namespaces[1]} up", log, StringComparison.Ordinal);
        var left = RunIp("netns", "list");
        Assert.DoesNotContain(namespaces[0], left, StringComparison.Ordinal);
        Assert.DoesNotContain(namespaces[1], left, StringComparison.Ordinal);

        var clients = result.GetProperty("Clients").EnumerateArray().ToDictionary(c => c.GetProperty("Client").GetString()!);
        var sdk = clients["sdk"];
        // The blackhole bit: the SDK dropped the silent link while the path was black (25 s), and calls were stalled by it.
        Assert.Equal(JsonValueKind.Number, sdk.GetProperty("DetectMs").ValueKind);
        Assert.InRange(sdk.GetProperty("DetectMs").GetDouble(), 0, 25_000);
        Assert.True(sdk.GetProperty("MaxMs").GetDouble() > 1000 || sdk.GetProperty("Succeeded").GetInt32() < sdk.GetProperty("Calls").GetInt32(), log);
        Assert.Equal(0, sdk.GetProperty("DuplicateSideEffects").GetInt32());
        Assert.True(sdk.GetProperty("Calls").GetInt32() > 0);
    }

    private static string RunIp(params string[] args)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var text = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return text;
    }
}

/// <summary>A fact that needs root and iptables (the lab's namespaces and rules); skipped with the reason otherwise.</summary>
internal sealed class LabFactAttribute : FactAttribute
{
    public LabFactAttribute()
    {
        if (!string.Equals(Environment.UserName, "root", StringComparison.Ordinal))
            Skip = "the weak-network lab needs root (network namespaces, veth pairs, iptables)";
        else if (!File.Exists("/usr/sbin/iptables") && !File.Exists("/sbin/iptables"))
            Skip = "iptables is not installed (test.sh installs it): the weak-network lab test is skipped";
    }
}
