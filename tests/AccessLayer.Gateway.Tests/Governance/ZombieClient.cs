using System.Buffers;
using System.Net;
using System.Net.Sockets;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Governance;

/// <summary>
/// A subscriber that stops reading after its SUBACK: a small receive buffer, then silence, so
/// the broker's writes back up through the kernel and Kestrel into its outbound queue.
/// </summary>
internal sealed class ZombieClient : IDisposable
{
    private readonly Socket _socket;

    private ZombieClient(Socket socket) => _socket = socket;

    public static async Task<ZombieClient> SubscribeAndStopReadingAsync(int port, string clientId, string filter, MqttQualityOfService qos, uint sessionExpiry = 0)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        var output = new ArrayBufferWriter<byte>();
        MqttConnectWriter.Write(output, new MqttConnectPacket { ProtocolVersion = MqttProtocolVersion.V500, ClientId = clientId, CleanStart = true, SessionExpiryInterval = sessionExpiry });
        MqttSubscribeWriter.Write(output, MqttProtocolVersion.V500, new MqttSubscribePacket { PacketId = 1, Subscriptions = [new MqttTopicSubscription(filter, qos)] });
        await socket.SendAsync(output.WrittenMemory, SocketFlags.None);

        // Read exactly CONNACK and SUBACK, nothing more.
        var received = new ArrayBufferWriter<byte>();
        var packets = 0;
        var one = new byte[1];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        while (packets < 2)
        {
            var n = await socket.ReceiveAsync(one, SocketFlags.None, cts.Token);
            if (n == 0)
            {
                throw new InvalidOperationException("closed before SUBACK");
            }

            received.Write(one);
            if (MqttPacketFramer.TryReadFrame(new ReadOnlySequence<byte>(received.WrittenMemory), int.MaxValue, out _, out _, out _))
            {
                packets++;
                received.ResetWrittenCount();
            }
        }

        return new ZombieClient(socket);
    }

    /// <summary>True once the broker has closed (or reset) the connection; drains whatever it sent first. Bounded.</summary>
    public async Task<bool> IsClosedAsync(TimeSpan timeout)
    {
        var buffer = new byte[64 * 1024];
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token) > 0)
            {
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    public void Dispose() => _socket.Dispose();
}
