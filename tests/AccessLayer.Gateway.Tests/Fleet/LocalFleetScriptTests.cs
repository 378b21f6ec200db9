using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using AccessLayer.Gateway.Tests.Conformance.Clients;
using AccessLayer.Gateway.Tests.Conformance.Harness;
using AccessLayer.Gateway.Tests.Fleet.Infrastructure;

namespace AccessLayer.Gateway.Tests.Fleet;

/// <summary>
/// <c>deploy/local-fleet.sh</c> as a person runs it: it prints working endpoints, and Ctrl+C (SIGINT)
/// leaves no node, no Redis and no temporary directory behind.
/// </summary>
[Trait("Category", "Fleet")]
public sealed partial class LocalFleetScriptTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task Two_nodes_serve_mqtt_on_the_printed_endpoints_and_sigint_stops_every_child()
    {
        var script = Path.Combine(PeerPaths.RepoRoot, "deploy", "local-fleet.sh");
        // env resets SIGINT to its default: a test host started in the background inherits it ignored,
        // and bash cannot trap a signal ignored on entry (a terminal's Ctrl+C never is).
        await using var fleet = ChildProcess.Start("local-fleet", "/usr/bin/env", ["--default-signal=INT", "/bin/bash", script, "2", "--dll", GatewayExecutable.Dll], new ChildProcessOptions
        {
            Lifetime = StartTimeout + StopTimeout + TimeSpan.FromSeconds(30),
            WorkingDirectory = PeerPaths.RepoRoot,
            Environment = new Dictionary<string, string> { ["DOTNET"] = GatewayExecutable.DotnetHost },
        });
        await using var clients = new ProcessGroup();
        IReadOnlyList<int> children = [];
        try
        {
            await fleet.WaitForLineAsync(line => line.StartsWith("fleet ready: 2 nodes", StringComparison.Ordinal), StartTimeout, what: "fleet ready");
            var nodes = fleet.StdoutLines.Select(l => NodeLine().Match(l)).Where(m => m.Success).ToList();
            Assert.Equal(2, nodes.Count);
            var mqttPorts = nodes.Select(m => int.Parse(m.Groups["mqtt"].Value, CultureInfo.InvariantCulture)).ToList();
            var logs = fleet.StdoutLines.Single(l => l.StartsWith("logs: ", StringComparison.Ordinal))["logs: ".Length..];
            foreach (var port in mqttPorts)
            {
                await MosquittoPublisher.RunAsync("127.0.0.1", port, clients, $"pub-{port}", "mqttv311", ["-t", "local-fleet/up", "-m", "hello", "-q", "1"]);
            }

            children = ProcessTree.Descendants(fleet.Id);
            var names = children.Select(ProcessTree.Name).ToList();
            Assert.Equal(2, names.Count(n => n.StartsWith("dotnet", StringComparison.Ordinal)));
            Assert.Contains(names, n => n.StartsWith("redis-server", StringComparison.Ordinal));

            using (var interrupt = Process.Start("kill", ["-INT", fleet.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await interrupt!.WaitForExitAsync();
            }

            Assert.Equal(130, await fleet.WaitForExitAsync(StopTimeout));
            Assert.Contains("local-fleet: stopped", fleet.StdoutLines);
            Assert.Empty(children.Where(ProcessTree.IsAlive).Select(pid => $"{pid} {ProcessTree.Name(pid)}"));
            foreach (var port in mqttPorts)
            {
                Assert.True(await FreePort.RefusesAsync(port), $"port {port} still accepts");
            }

            Assert.False(Directory.Exists(Path.GetDirectoryName(logs)), $"{logs} was not removed");
        }
        finally
        {
            output.WriteLine(fleet.TranscriptText(200));
            clients.WriteTranscripts(output);
            // A failed run must not leave a fleet running: the script's children are killed by pid.
            foreach (var pid in children.Concat(fleet.HasExited ? [] : ProcessTree.Descendants(fleet.Id)).Where(ProcessTree.IsAlive))
            {
                try
                {
                    Process.GetProcessById(pid).Kill();
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException)
                {
                }
            }
        }
    }

    [GeneratedRegex(@"^\d+\s+127\.0\.0\.1:(?<mqtt>\d+)\s+127\.0\.0\.1:(?<mlp>\d+)\s+127\.0\.0\.1:(?<http>\d+)\s+127\.0\.0\.1:(?<management>\d+)\s+127\.0\.0\.1:(?<silo>\d+)\s*$")]
    private static partial Regex NodeLine();
}
