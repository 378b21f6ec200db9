using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;
using MQTTnet.Implementations;
using MQTTnet.Packets;
using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace AccessLayer.Gateway.Tests.Conformance.Clients;

/// <summary>
/// MQTTnet's own channel adapter (TCP), plugged in through its public
/// <see cref="IMqttClientAdapterFactory"/> seam, with a hand on the packets the harness must see
/// or withhold: outgoing PUBACK / PUBREC ("arrived": a QoS 1/2 PUBLISH is being acknowledged),
/// PUBACK / PUBREC / PUBCOMP kept back while held (MQTTnet's <c>AutoAcknowledge</c> reaches
/// PUBACK and PUBREC but not PUBCOMP, which it sends itself on PUBREL), and the server's
/// DISCONNECT with its reason code (MQTTnet reports a reason on every disconnection, not whether
/// the server sent one). Like the mqtt.js agent, acknowledgements are held at the send step
/// while packet processing goes on.
/// </summary>
internal sealed class MqttNetAckGate(IMqttChannelAdapter inner, Action<int> arrived, Action<int> serverDisconnect) : IMqttChannelAdapter
{
    private readonly object _gate = new();
    private readonly List<MqttPacket> _held = [];
    private HashSet<string> _holding = [];

    public long BytesReceived => inner.BytesReceived;

    public long BytesSent => inner.BytesSent;

    public X509Certificate2 ClientCertificate => inner.ClientCertificate;

    public EndPoint RemoteEndPoint => inner.RemoteEndPoint;

    public EndPoint LocalEndPoint => inner.LocalEndPoint;

    public bool IsSecureConnection => inner.IsSecureConnection;

    public MqttPacketFormatterAdapter PacketFormatterAdapter => inner.PacketFormatterAdapter;

    /// <summary>From now on withholds these acknowledgements ("puback", "pubrec", "pubcomp").</summary>
    public void Hold(IEnumerable<string> kinds)
    {
        lock (_gate) _holding = [.. kinds];
    }

    /// <summary>Sends the withheld acknowledgements in order and stops withholding; returns how many.</summary>
    public async Task<int> ReleaseAsync(CancellationToken cancellationToken)
    {
        MqttPacket[] held;
        lock (_gate)
        {
            _holding = [];
            held = [.. _held];
            _held.Clear();
        }
        foreach (var packet in held) await inner.SendPacketAsync(packet, cancellationToken);
        return held.Length;
    }

    public Task SendPacketAsync(MqttPacket packet, CancellationToken cancellationToken)
    {
        var kind = packet switch
        {
            MqttPubAckPacket => "puback",
            MqttPubRecPacket => "pubrec",
            MqttPubCompPacket => "pubcomp",
            _ => null,
        };
        if (packet is MqttPubAckPacket ack) arrived(ack.PacketIdentifier);
        else if (packet is MqttPubRecPacket rec) arrived(rec.PacketIdentifier);
        if (kind is not null)
        {
            lock (_gate)
            {
                if (_holding.Contains(kind))
                {
                    _held.Add(packet);
                    return Task.CompletedTask;
                }
            }
        }
        return inner.SendPacketAsync(packet, cancellationToken);
    }

    public async Task<MqttPacket> ReceivePacketAsync(CancellationToken cancellationToken)
    {
        var packet = await inner.ReceivePacketAsync(cancellationToken);
        if (packet is MqttDisconnectPacket disconnect) serverDisconnect((int)disconnect.ReasonCode);
        return packet;
    }

    public Task ConnectAsync(CancellationToken cancellationToken) => inner.ConnectAsync(cancellationToken);

    public Task DisconnectAsync(CancellationToken cancellationToken) => inner.DisconnectAsync(cancellationToken);

    public void ResetStatistics() => inner.ResetStatistics();

    public void Dispose() => inner.Dispose();
}

/// <summary>Makes MQTTnet's default client adapter, wrapped in a <see cref="MqttNetAckGate"/>.</summary>
internal sealed class MqttNetAckGateFactory(Func<IMqttChannelAdapter, MqttNetAckGate> wrap) : IMqttClientAdapterFactory
{
    private readonly MqttClientAdapterFactory _default = new();

    public IMqttChannelAdapter CreateClientAdapter(MqttClientOptions options, MqttPacketInspector packetInspector, IMqttNetLogger logger) =>
        wrap(_default.CreateClientAdapter(options, packetInspector, logger));
}
