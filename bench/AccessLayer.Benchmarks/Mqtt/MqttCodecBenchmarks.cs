using System.Buffers;
using AccessLayer.Protocol.Mqtt;
using BenchmarkDotNet.Attributes;

namespace AccessLayer.Benchmarks.Mqtt;

/// <summary>
/// The MQTT codec on its own: frame + decode, and encode into a reused buffer, for CONNECT,
/// PUBLISH (16 B and 1 KiB payloads) and SUBSCRIBE, in 3.1.1 and 5.0.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
[ShortRunJob]
public class MqttCodecBenchmarks
{
    private readonly ArrayBufferWriter<byte> _output = new(4096);
    private MqttConnectPacket _connect = null!;
    private MqttSubscribePacket _subscribe = null!;
    private MqttApplicationMessage _publish16 = null!;
    private MqttApplicationMessage _publish1K = null!;
    private ReadOnlySequence<byte> _connectBytes;
    private ReadOnlySequence<byte> _subscribeBytes;
    private ReadOnlySequence<byte> _publish16Bytes;
    private ReadOnlySequence<byte> _publish1KBytes;

    [Params(MqttProtocolVersion.V311, MqttProtocolVersion.V500)]
    public MqttProtocolVersion Version { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var v5 = Version == MqttProtocolVersion.V500;
        IReadOnlyList<MqttUserProperty> userProperties = v5 ? [new("app", "bench")] : [];
        _connect = new MqttConnectPacket
        {
            ProtocolVersion = Version,
            CleanStart = true,
            KeepAliveSeconds = 60,
            ClientId = "device-000123456",
            UserName = "device-000123456",
            Password = "0123456789abcdef"u8.ToArray(),
            SessionExpiryInterval = v5 ? 3600u : 0,
            ReceiveMaximum = v5 ? (ushort)32 : ushort.MaxValue,
            UserProperties = userProperties,
            Will = new MqttWillMessage { Topic = "devices/000123456/status", Payload = "offline"u8.ToArray(), QualityOfService = MqttQualityOfService.AtLeastOnce, Retain = true },
        };
        _subscribe = new MqttSubscribePacket
        {
            PacketId = 1,
            SubscriptionIdentifier = v5 ? 7u : null,
            UserProperties = userProperties,
            Subscriptions =
            [
                new("devices/000123456/commands/#", MqttQualityOfService.AtLeastOnce),
                new("broadcast/+/firmware", MqttQualityOfService.AtMostOnce),
                new("zones/eu-west/notices", MqttQualityOfService.ExactlyOnce),
            ],
        };
        _publish16 = Message(16, v5);
        _publish1K = Message(1024, v5);

        _connectBytes = Encode(o => MqttConnectWriter.Write(o, _connect));
        _subscribeBytes = Encode(o => MqttSubscribeWriter.Write(o, Version, _subscribe));
        _publish16Bytes = Encode(o => MqttPublishWriter.Write(o, Version, _publish16, MqttQualityOfService.AtLeastOnce, false, false, 1, 0, []));
        _publish1KBytes = Encode(o => MqttPublishWriter.Write(o, Version, _publish1K, MqttQualityOfService.AtLeastOnce, false, false, 1, 0, []));
    }

    [Benchmark]
    public MqttConnectPacket DecodeConnect()
    {
        Frame(_connectBytes, out var header, out var body);
        return MqttConnectDecoder.Decode(header, body);
    }

    [Benchmark]
    public int EncodeConnect()
    {
        _output.ResetWrittenCount();
        MqttConnectWriter.Write(_output, _connect);
        return _output.WrittenCount;
    }

    [Benchmark]
    public long DecodePublish16B() => DecodePublish(_publish16Bytes);

    [Benchmark]
    public long DecodePublish1KB() => DecodePublish(_publish1KBytes);

    [Benchmark]
    public int EncodePublish16B() => EncodePublish(_publish16);

    [Benchmark]
    public int EncodePublish1KB() => EncodePublish(_publish1K);

    [Benchmark]
    public MqttSubscribePacket DecodeSubscribe()
    {
        Frame(_subscribeBytes, out var header, out var body);
        return MqttSubscribeDecoder.Decode(header, body, Version);
    }

    [Benchmark]
    public int EncodeSubscribe()
    {
        _output.ResetWrittenCount();
        MqttSubscribeWriter.Write(_output, Version, _subscribe);
        return _output.WrittenCount;
    }

    private long DecodePublish(in ReadOnlySequence<byte> bytes)
    {
        Frame(bytes, out var header, out var body);
        var publish = MqttPublishDecoder.Decode(header, body, Version);
        return publish.Payload.Length + publish.TopicName.Length;
    }

    private int EncodePublish(MqttApplicationMessage message)
    {
        _output.ResetWrittenCount();
        MqttPublishWriter.Write(_output, Version, message, MqttQualityOfService.AtLeastOnce, false, false, 1, 0, []);
        return _output.WrittenCount;
    }

    private static void Frame(in ReadOnlySequence<byte> bytes, out MqttFixedHeader header, out ReadOnlySequence<byte> body)
    {
        var reader = new SequenceReader<byte>(bytes);
        if (!MqttPacketFramer.TryReadFrame(ref reader, 1 << 20, out header, out body))
        {
            throw new InvalidOperationException("Benchmark input is not a whole packet.");
        }
    }

    private static MqttApplicationMessage Message(int payloadSize, bool v5) => new()
    {
        Topic = "devices/000123456/telemetry/engine",
        Payload = Enumerable.Range(0, payloadSize).Select(i => (byte)i).ToArray(),
        QualityOfService = MqttQualityOfService.AtLeastOnce,
        ContentType = v5 ? "application/octet-stream" : null,
        MessageExpiryInterval = v5 ? 600u : null,
        UserProperties = v5 ? [new("trace-id", "4bf92f3577b34da6")] : [],
    };

    private static ReadOnlySequence<byte> Encode(Action<IBufferWriter<byte>> write)
    {
        var output = new ArrayBufferWriter<byte>();
        write(output);
        return new ReadOnlySequence<byte>(output.WrittenMemory.ToArray());
    }
}
