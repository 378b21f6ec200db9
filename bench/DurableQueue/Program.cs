using System.Globalization;
using AccessLayer.DurableQueueBench;

// `dotnet run -c Release --project bench/DurableQueue [seconds per row]`: starts a redis-server and
// prints the durable queue's throughput and latency table (5 rows, 8 s each by default).
var seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 8;
Console.Write(await DurableQueueReport.RunAsync(TimeSpan.FromSeconds(Math.Clamp(seconds, 1, 60))));
