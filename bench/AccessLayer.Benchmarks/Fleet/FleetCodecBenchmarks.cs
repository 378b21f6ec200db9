using System.Buffers;
using AccessLayer.Protocol.Mqtt;
using AccessLayer.SessionGrains.Forwarding;
using BenchmarkDotNet.Attributes;

namespace AccessLayer.Benchmarks.Fleet;

/// <summary>
/// The fleet codec's forward path: a batch of 256 messages (64 B and 1 KiB payloads, typical MQTT 5.0
/// properties) written into a reused buffer, and the same batch read back. Figures are per message.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class FleetCodecBenchmarks
{
    private const int BatchSize = 256;

    private readonly ArrayBufferWriter<byte> _output = new(BatchSize * 2048);
    private ForwardedMessage[] _messages = [];
    private ReadOnlyMemory<byte> _batch;

    [Params(64, 1024)]
    public int PayloadSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var payload = new byte[PayloadSize];
        new Random(42).NextBytes(payload);
        _messages = new ForwardedMessage[BatchSize];
        for (var i = 0; i < BatchSize; i++)
        {
            var message = new MqttApplicationMessage
            {
                Topic = $"devices/{i:D6}/telemetry",
                Payload = payload,
                QualityOfService = MqttQualityOfService.AtLeastOnce,
                PayloadFormatIndicator = 1,
                MessageExpiryInterval = 3600,
                ContentType = "application/json",
                UserProperties = [new("app", "bench")],
            };
            _messages[i] = new ForwardedMessage(message, $"device-{i:D6}", true, i % 4 == 0 ? ["workers"] : [], i % 2 == 0 ? Guid.NewGuid() : Guid.Empty);
        }

        WriteBatch();
        _batch = _output.WrittenMemory.ToArray();
    }

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public int WriteBatch()
    {
        _output.ResetWrittenCount();
        foreach (var message in _messages)
        {
            FleetCodec.WriteForwarded(_output, message);
        }

        return _output.WrittenCount;
    }

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public int ReadBatch() => FleetCodec.ReadBatch(_batch).Count;
}
