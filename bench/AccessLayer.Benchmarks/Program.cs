using AccessLayer.Benchmarks.Mlp;
using BenchmarkDotNet.Running;

// `wire-bytes [calls]` prints the MLP bytes-on-the-wire table without BenchmarkDotNet.
if (args is ["wire-bytes", ..])
{
    Console.Write(WireBytesReport.Render(WireBytesReport.Measure(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1000)));
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(WireBytesReport).Assembly).Run(args);
