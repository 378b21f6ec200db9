using AccessLayer.Benchmarks.Durable;
using AccessLayer.Benchmarks.Mlp;
using BenchmarkDotNet.Running;

// `wire-bytes [calls]` prints the MLP bytes-on-the-wire table without BenchmarkDotNet.
if (args is ["wire-bytes", ..])
{
    Console.Write(WireBytesReport.Render(WireBytesReport.Measure(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1000)));
    return;
}

// `durable-queue [seconds per row]` starts a redis-server and prints the durable queue's throughput table.
if (args is ["durable-queue", ..])
{
    var seconds = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 8;
    Console.Write(await DurableQueueReport.RunAsync(TimeSpan.FromSeconds(Math.Clamp(seconds, 1, 60))));
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(WireBytesReport).Assembly).Run(args);
