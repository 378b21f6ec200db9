using System.Globalization;
using AccessLayer.Lab;

// The weak-network lab (docs/benchmarks-weak-network.md). `lab/run.sh [--quick] [--scenario a,b] [--json FILE]` is the one command.
// `inner` is the lab itself re-run inside a scenario's client namespace by the outer process.
if (args is ["inner", ..])
    return await Inner(args[1..]);

var quick = args.Contains("--quick");
string? json = Value(args, "--json");
var names = Value(args, "--scenario")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
if (Environment.UserName != "root" && !string.Equals(Environment.GetEnvironmentVariable("USER"), "root", StringComparison.Ordinal) && Shell.Run("id", "-u").Trim() != "0")
{
    Console.Error.WriteLine("lab: needs root (network namespaces, veth, tc, iptables).");
    return 2;
}

foreach (var tool in new[] { "ip", "tc", "iptables", "/usr/bin/python3" })
{
    if (Shell.TryRun("sh", "-c", $"command -v {tool}").Code != 0)
    {
        Console.Error.WriteLine($"lab: {tool} not found (apt-get install iproute2 iptables python3).");
        return 2;
    }
}

List<Scenario> scenarios = [];
foreach (var name in names ?? Scenario.All(quick).Select(s => s.Name).ToArray())
{
    if (Scenario.Find(name, quick) is not { } scenario)
    {
        Console.Error.WriteLine($"lab: no scenario '{name}' (good, 3g, lossy, subway, nat15, restart, reset, handover, nat45, blackhole).");
        return 2;
    }

    scenarios.Add(scenario);
}

using var runner = new LabRunner(scenarios, quick, json);
return await runner.RunAsync();

static async Task<int> Inner(string[] args)
{
    var quick = args.Contains("--quick");
    var scenario = Scenario.Find(Value(args, "--scenario") ?? "", quick) ?? throw new ArgumentException("unknown scenario");
    var topology = new LabTopology(int.Parse(Value(args, "--owner")!, CultureInfo.InvariantCulture), int.Parse(Value(args, "--index")!, CultureInfo.InvariantCulture));
    var gatewayDll = GatewayDll();
    var delayScript = Path.Combine(AppContext.BaseDirectory, "nfq_delay.py");
    using var stop = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) => stop.Cancel();
    var result = await new ScenarioRunner(scenario, topology, gatewayDll, delayScript).RunAsync(stop.Token);
    Console.WriteLine("RESULT " + System.Text.Json.JsonSerializer.Serialize(result, ResultTable.Json));
    return 0;
}

// The gateway built beside the lab (same configuration), as the test fixtures find it.
static string GatewayDll()
{
    var configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
    for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
    {
        var candidate = Path.Combine(directory.FullName, "gateway", "bin", configuration, "net10.0", "AccessLayer.Gateway.dll");
        if (File.Exists(candidate))
            return candidate;
    }

    throw new FileNotFoundException("AccessLayer.Gateway.dll not found: build the gateway (dotnet build AccessLayer.sln -c Release).");
}

static string? Value(string[] args, string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
