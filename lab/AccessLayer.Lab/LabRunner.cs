using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace AccessLayer.Lab;

/// <summary>
/// The outer lab process (root, in the host's namespace): removes leftovers of dead runs, and for each scenario
/// creates its namespaces and veth pairs, runs the scenario inside the client namespace (this program again,
/// <c>inner</c>), removes the namespaces, and prints the table. SIGINT/SIGTERM remove whatever is up before exiting.
/// The long, mostly idle nat45 scenario runs beside the others.
/// </summary>
internal sealed class LabRunner(IReadOnlyList<Scenario> scenarios, bool quick, string? jsonPath) : IDisposable
{
    private readonly List<LabNetwork> _live = [];
    private readonly List<Process> _inners = [];
    private readonly CancellationTokenSource _stop = new();
    private int _removed;

    public async Task<int> RunAsync()
    {
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        var leftovers = LabNetwork.RemoveLeftovers();
        if (leftovers.Count > 0)
            Console.Error.WriteLine($"lab: removed leftovers of dead runs: {string.Join(", ", leftovers)}");

        var results = new List<ScenarioResult>();
        var index = 1;
        var background = scenarios.Where(s => s.Duration > 300).Select(s => (Scenario: s, Index: index++)).ToList();
        var foreground = scenarios.Where(s => s.Duration <= 300).Select(s => (Scenario: s, Index: index++)).ToList();
        var clock = Stopwatch.StartNew();
        try
        {
            var side = background.Select(b => Task.Run(() => RunOneAsync(b.Scenario, b.Index))).ToList();
            foreach (var (scenario, i) in foreground)
            {
                results.Add(await RunOneAsync(scenario, i));
                if (_stop.IsCancellationRequested)
                    break;
            }

            results.AddRange(await Task.WhenAll(side));
        }
        finally
        {
            RemoveAll();
        }

        if (_stop.IsCancellationRequested)
        {
            Console.Error.WriteLine("lab: interrupted; namespaces removed.");
            return 130;
        }

        var stillThere = LabNetwork.ListNamespaces().Where(n => n.StartsWith($"{LabTopology.Prefix}{Environment.ProcessId}n", StringComparison.Ordinal)).ToList();
        Console.WriteLine(ResultTable.Render(results, quick, clock.Elapsed));
        if (jsonPath is not null)
            await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(results, ResultTable.Json));
        if (stillThere.Count > 0)
        {
            Console.Error.WriteLine($"lab: namespaces not removed: {string.Join(", ", stillThere)}");
            return 1;
        }

        Console.WriteLine($"lab: every namespace created was removed ({_removed} networks).");
        return results.Any(r => r.Broken is not null) ? 1 : 0;
    }

    private async Task<ScenarioResult> RunOneAsync(Scenario scenario, int index)
    {
        var topology = new LabTopology(Environment.ProcessId, index);
        LabNetwork network;
        lock (_live)
        {
            if (_stop.IsCancellationRequested)
                return new ScenarioResult { Scenario = scenario.Name, Description = scenario.Description, Broken = "interrupted" };
            network = LabNetwork.Create(topology);
            _live.Add(network);
        }

        Console.Error.WriteLine($"lab: {scenario.Name}: namespaces {topology.ClientNs}, {topology.GatewayNs} up");
        try
        {
            var dll = typeof(LabRunner).Assembly.Location;
            var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true };
            foreach (var arg in new[] { "netns", "exec", topology.ClientNs, "dotnet", dll, "inner", "--scenario", scenario.Name,
                         "--owner", topology.Owner.ToString(System.Globalization.CultureInfo.InvariantCulture),
                         "--index", index.ToString(System.Globalization.CultureInfo.InvariantCulture), quick ? "--quick" : "--full" })
                start.ArgumentList.Add(arg);
            using var inner = Process.Start(start) ?? throw new InvalidOperationException("the inner lab did not start.");
            lock (_live)
                _inners.Add(inner);
            var reading = inner.StandardOutput.ReadToEndAsync();
            var bound = TimeSpan.FromSeconds(scenario.Duration + 240);
            using var timeout = new CancellationTokenSource(bound);
            try
            {
                await inner.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                inner.Kill(entireProcessTree: true);
                return new ScenarioResult { Scenario = scenario.Name, Description = scenario.Description, Broken = $"did not finish within {bound.TotalSeconds:0} s" };
            }

            var output = await reading;
            var line = output.Split('\n').LastOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
            if (inner.ExitCode != 0 || line is null)
                return new ScenarioResult { Scenario = scenario.Name, Description = scenario.Description, Broken = $"the scenario's runner exited with {inner.ExitCode}" };
            return JsonSerializer.Deserialize<ScenarioResult>(line["RESULT ".Length..], ResultTable.Json)!;
        }
        finally
        {
            lock (_live)
            {
                network.Remove();
                _live.Remove(network);
                if (network.IsRemoved())
                    _removed++;
            }

            Console.Error.WriteLine($"lab: {scenario.Name}: namespaces removed");
        }
    }

    public void Dispose() => _stop.Dispose();

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        _stop.Cancel();
        RemoveAll();
        Console.Error.WriteLine("lab: interrupted; namespaces removed.");
        Environment.Exit(130);
    }

    private void RemoveAll()
    {
        lock (_live)
        {
            foreach (var inner in _inners)
            {
                try
                {
                    if (!inner.HasExited)
                        inner.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // Already gone.
                }
            }

            foreach (var network in _live)
                network.Remove();
            _live.Clear();
        }
    }
}
