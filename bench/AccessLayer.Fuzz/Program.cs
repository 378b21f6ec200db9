using System.Globalization;
using AccessLayer.Fuzz;

// AccessLayer.Fuzz <mqtt|mlp|hpack|zstd|websocket|all> [--count N] [--seed S] [--workers W] [--first I] [--index I]
// Exit code 0: no crash; 1: a crash, a hang or a broken bound (details on stdout); 2: bad arguments.
var inv = CultureInfo.InvariantCulture;
string? command = null;
long count = 1_000_000;
ulong seed = 1;
var workers = 1;
long first = 0;
for (var i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    switch (args[i])
    {
        case "--count": count = long.Parse(Value(), inv); break;
        case "--seed": seed = ulong.Parse(Value(), inv); break;
        case "--workers": workers = int.Parse(Value(), inv); break;
        case "--first": first = long.Parse(Value(), inv); break;
        case "--index": first = long.Parse(Value(), inv); count = 1; break;
        case "-h" or "--help": command = null; i = args.Length; break;
        default: command = args[i]; break;
    }
}

if (command is null || (command != "all" && !FuzzTargets.All.ContainsKey(command)) || count < 0 || workers < 1)
{
    Console.Error.WriteLine("usage: AccessLayer.Fuzz <" + string.Join('|', FuzzTargets.All.Keys) + "|all> [--count N (1000000)] [--seed S (1)] [--workers W (1)] [--first I] [--index I (replay one input)]");
    return 2;
}

var names = command == "all" ? FuzzTargets.All.Keys.ToList() : [command];
Console.WriteLine($"fuzz: {string.Join(", ", names)}; {count.ToString("N0", inv)} inputs each from index {first}, seed {seed}, {workers} worker(s), {Environment.ProcessorCount} cores, .NET {Environment.Version}");
var failed = false;
var rows = new List<string>();
foreach (var name in names)
{
    var lastPrint = DateTime.UtcNow;
    var runner = new FuzzRunner(FuzzTargets.All[name])
    {
        Progress = done =>
        {
            if (DateTime.UtcNow - lastPrint > TimeSpan.FromSeconds(30))
            {
                lastPrint = DateTime.UtcNow;
                Console.WriteLine($"  {name}: {done.ToString("N0", inv)} / {count.ToString("N0", inv)}");
            }
        },
    };
    var result = runner.Run(seed, first, count, workers);
    var refused = string.Join(", ", result.Refused.Select(r => $"{r.Key} {r.Value.ToString("N0", inv)}"));
    Console.WriteLine($"{name}: {result.Inputs.ToString("N0", inv)} inputs in {result.Elapsed.TotalSeconds:F1} s ({result.Inputs / Math.Max(1e-9, result.Elapsed.TotalSeconds):N0}/s); "
        + $"accepted {result.Accepted.ToString("N0", inv)}, refused: {refused}; crashes {result.CrashCount}{(result.HungAt is { } hung ? $", HUNG at index {hung}" : "")}; "
        + $"peak working set {result.PeakWorkingSet / 1048576.0:F1} MiB, peak GC heap {result.PeakGcHeap / 1048576.0:F1} MiB, allocated {result.AllocatedBytes / 1048576.0:F0} MiB; "
        + $"largest retained {result.MaxRetained.ToString("N0", inv)} B (bound {result.RetainedBound.ToString("N0", inv)} B)");
    foreach (var crash in result.Crashes)
    {
        Console.WriteLine($"CRASH {name} seed {seed} index {crash.Index} (replay: --seed {seed} --index {crash.Index}) segments {crash.Segments}");
        Console.WriteLine($"  input {crash.InputHex}");
        Console.WriteLine("  " + crash.Exception.Replace("\n", "\n  ", StringComparison.Ordinal));
    }

    failed |= !result.Passed;
    rows.Add($"| {name} | {result.Inputs.ToString("N0", inv)} | {seed} | {result.CrashCount + (result.HungAt is null ? 0 : 1)} | {result.Accepted.ToString("N0", inv)} | {refused} | {result.Elapsed.TotalSeconds:F0} s | {result.PeakWorkingSet / 1048576.0:F0} MiB | {result.PeakGcHeap / 1048576.0:F1} MiB | {result.MaxRetained.ToString("N0", inv)} / {result.RetainedBound.ToString("N0", inv)} B |");
}

Console.WriteLine();
Console.WriteLine("| target | inputs | seed | crashes | accepted | refused (documented exceptions) | time | peak working set | peak GC heap | largest retained / bound |");
Console.WriteLine("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|");
rows.ForEach(Console.WriteLine);
return failed ? 1 : 0;
