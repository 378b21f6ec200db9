using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AccessLayer.Protocol.Mqtt;
using Xunit.Abstractions;

namespace AccessLayer.Gateway.Tests.Governance;

/// <summary>
/// A connect storm from four loopback addresses (2,400 connects, on the wall clock because the
/// rate limiter is System.Threading.RateLimiting's): each address is held to its token bucket
/// while a client that was already connected keeps getting its messages.
/// </summary>
public sealed class ConnectStormTests(ITestOutputHelper output)
{
    private const int Rate = 50;
    private const int Burst = 50;
    private const int PerSource = 600;

    [Fact]
    public async Task A_storm_from_several_addresses_is_held_to_the_per_IP_rate_while_existing_clients_are_served()
    {
        await using var gateway = await GovernedGateway.StartAsync($"--Limits:ConnectRatePerIp={Rate}", $"--Limits:ConnectBurstPerIp={Burst}", "--Limits:FlappingMaxConnects=0");
        await using var existing = await gateway.ConnectClientAsync();
        await existing.ConnectAsync("existing");
        await existing.SubscribeAsync("probe", MqttQualityOfService.AtMostOnce);

        IPAddress[] sources = [IPAddress.Parse("127.0.0.2"), IPAddress.Parse("127.0.0.3"), IPAddress.Parse("127.0.0.4"), IPAddress.Parse("127.0.0.5")];
        var clock = Stopwatch.StartNew();
        var storm = Task.WhenAll(sources.Select(source => Task.Run(() => StormAsync(source, gateway.MqttPort))));

        var worstRoundTrip = TimeSpan.Zero;
        var roundTrips = 0;
        while (!storm.IsCompleted)
        {
            var started = Stopwatch.GetTimestamp();
            await existing.PublishAsync("probe", "ping");
            var (message, _, _, _) = await existing.ReceivePublishAsync(TimeSpan.FromSeconds(5));
            Assert.Equal("probe", message.Topic);
            var elapsed = Stopwatch.GetElapsedTime(started);
            worstRoundTrip = elapsed > worstRoundTrip ? elapsed : worstRoundTrip;
            roundTrips++;
            await Task.Delay(10);
        }

        var results = await storm;
        var seconds = clock.Elapsed.TotalSeconds;
        Assert.True(seconds < 20, $"storm took {seconds:F1}s");

        // Each address got at most its burst plus what the bucket refilled meanwhile (+ one refill period of slack).
        var allowed = Burst + (Rate * (seconds + 0.2));
        foreach (var (accepted, refused) in results)
        {
            Assert.Equal(PerSource, accepted + refused);
            Assert.InRange(accepted, Burst, allowed);
        }

        output.WriteLine($"{sources.Length * PerSource} connects in {seconds:F2}s; accepted per address: {string.Join(", ", results.Select(r => r.Accepted))} (bound {allowed:F0}); {roundTrips} probe round trips, worst {worstRoundTrip.TotalMilliseconds:F1} ms");
        var totalRefused = results.Sum(r => r.Refused);
        Assert.True(totalRefused > 0);
        Assert.Equal(totalRefused, await gateway.MetricAsync("accesslayer_gateway_connections_refused_total", ("reason", "connect_rate")));
        Assert.True(roundTrips >= 3, $"only {roundTrips} round trips");
        Assert.True(worstRoundTrip < TimeSpan.FromSeconds(2), $"worst round trip {worstRoundTrip}");
    }

    private static async Task<(int Accepted, int Refused)> StormAsync(IPAddress source, int port)
    {
        var accepted = 0;
        var refused = 0;
        var next = -1;
        var workers = Enumerable.Range(0, 12).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < PerSource)
            {
                if (await ConnectOnceAsync(source, port, $"storm-{source}-{i}"))
                {
                    Interlocked.Increment(ref accepted);
                }
                else
                {
                    Interlocked.Increment(ref refused);
                }
            }
        });
        await Task.WhenAll(workers);
        return (accepted, refused);
    }

    /// <summary>One connect from <paramref name="source"/>: true when a CONNACK came back, false when the socket was closed at accept.</summary>
    private static async Task<bool> ConnectOnceAsync(IPAddress source, int port, string clientId)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, LingerState = new LingerOption(true, 0) };
        socket.Bind(new IPEndPoint(source, 0));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        var connect = new ArrayBufferWriter<byte>();
        MqttConnectWriter.Write(connect, new MqttConnectPacket { ProtocolVersion = MqttProtocolVersion.V500, ClientId = clientId, CleanStart = true });
        try
        {
            await socket.SendAsync(connect.WrittenMemory, SocketFlags.None);
            var buffer = new byte[64];
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            return read > 0 && buffer[0] == 0x20 && buffer[3] == 0;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
