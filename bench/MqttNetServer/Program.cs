using System.Globalization;
using System.Net;
using MQTTnet.Server;

// The MQTTnet 5 broker as the third peer of bench/side-by-side: MQTTnet.Server with its own TCP
// listener, no persistence, no logging, the same limits the other brokers get in that bench.
//   dotnet AccessLayer.MqttNetServer.dll --port 1883 [--bind 127.0.0.1]
// Settings for a fair comparison (see docs/benchmarks.md, "Side by side"):
// - queue bound: 1,000 pending messages per client, oldest dropped past it (mosquitto
//   max_queued_messages 1000; the gateway Mqtt:MaxQueuedMessages=1000, DropOldest; MQTTnet's default is 250,000);
// - listen backlog 512 (the gateway's epoll engine; MQTTnet's default is 10, which refuses a connect storm);
// - TCP_NODELAY on accepted sockets, as mosquitto (set_tcp_nodelay true) and the gateway do;
// - sessions in memory only (no persistent sessions), workstation GC as the gateway.
// MQTTnet has no outbound inflight window setting: it sends queued QoS 1/2 messages without a cap.
var port = 1883;
var bind = IPAddress.Loopback;
for (var i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--port" when int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is > 0 and < 65536:
            port = p;
            break;
        case "--bind" when IPAddress.TryParse(args[i + 1], out var address):
            bind = address;
            break;
        default:
            await Console.Error.WriteLineAsync($"usage: AccessLayer.MqttNetServer --port PORT [--bind ADDRESS] ({args[i]} {args[i + 1]} not understood)");
            return 2;
    }
}

if (args.Length % 2 != 0)
{
    await Console.Error.WriteLineAsync("usage: AccessLayer.MqttNetServer --port PORT [--bind ADDRESS]");
    return 2;
}

var options = new MqttServerOptionsBuilder()
    .WithDefaultEndpoint()
    .WithDefaultEndpointPort(port)
    .WithDefaultEndpointBoundIPAddress(bind)
    .WithConnectionBacklog(512)
    .WithMaxPendingMessagesPerClient(1000)
    .WithPendingMessagesOverflowStrategy(MqttPendingMessagesOverflowStrategy.DropOldestQueuedMessage)
    .Build();
options.DefaultEndpointOptions.NoDelay = true;

using var server = new MqttServerFactory().CreateMqttServer(options);
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();

await server.StartAsync();
await Console.Out.WriteLineAsync($"MQTTnet server listening on {bind}:{port}");
try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
    // SIGTERM or Ctrl+C: stop below.
}

await server.StopAsync();
return 0;
