using System.Buffers;
using AccessLayer.Protocol.Compression;
using FsCheck;
using FsCheck.Fluent;

namespace AccessLayer.Protocol.Tests.Compression;

public sealed class ZstdCodecTests : IClassFixture<TrainedDictionaryFixture>
{
    private readonly TrainedDictionaryFixture _fixture;

    public ZstdCodecTests(TrainedDictionaryFixture fixture) => _fixture = fixture;

    private ZstdCodec CodecWithDictionary(ZstdCodecOptions? options = null)
    {
        var registry = new ZstdDictionaryRegistry();
        Assert.True(registry.TryAdd(ZstdDictionary.Create(_fixture.Content)));
        return new ZstdCodec(registry, options);
    }

    private static byte[] Compress(ZstdCodec codec, ReadOnlySpan<byte> source, ZstdDictionary? dictionary = null)
    {
        var writer = new ArrayBufferWriter<byte>();
        codec.Compress(source, writer, dictionary);
        return writer.WrittenSpan.ToArray();
    }

    [Fact]
    public void Round_trips_without_a_dictionary_and_names_none()
    {
        using var codec = new ZstdCodec();
        var message = MobilePayloads.Json(new Random(5), 3);

        var frame = Compress(codec, message);
        var output = new ArrayBufferWriter<byte>();
        var length = codec.Decompress(frame, output);

        Assert.Equal(message.Length, length);
        Assert.Equal(message, output.WrittenSpan.ToArray());
        Assert.Equal(0u, ZstdFrame.GetDictionaryId(frame));
        Assert.True(ZstdFrame.TryGetContentSize(frame, out var declared));
        Assert.Equal((ulong)message.Length, declared);
    }

    [Fact]
    public void Round_trips_with_a_dictionary_into_a_span()
    {
        using var codec = CodecWithDictionary();
        var dictionary = codec.Dictionaries.Get(TrainedDictionaryFixture.DictionaryId);
        var message = MobilePayloads.Protobufish(new Random(6), 2);

        var frame = Compress(codec, message, dictionary);
        var output = new byte[message.Length + 10];
        var length = codec.Decompress(frame, output);

        Assert.Equal(message, output.AsSpan(0, length).ToArray());
    }

    [Fact]
    public void Frame_header_names_the_dictionary_id_it_was_compressed_with()
    {
        using var codec = CodecWithDictionary();
        var dictionary = codec.Dictionaries.Get(TrainedDictionaryFixture.DictionaryId);

        var frame = Compress(codec, MobilePayloads.Json(new Random(7), 1), dictionary);

        Assert.Equal(TrainedDictionaryFixture.DictionaryId, dictionary.Id);
        Assert.Equal(dictionary.Id, ZstdFrame.GetDictionaryId(frame));
    }

    [Fact]
    public void Round_trips_an_empty_body()
    {
        using var codec = new ZstdCodec();
        var frame = Compress(codec, []);
        Assert.Equal(0, codec.Decompress(frame, new ArrayBufferWriter<byte>()));
    }

    [Fact]
    public void Decompresses_a_body_split_across_sequence_segments()
    {
        using var codec = new ZstdCodec();
        var message = MobilePayloads.Json(new Random(8), 4);
        var frame = Compress(codec, message);
        var sequence = TestSequences.Split(frame, frame.Length / 3, 2 * frame.Length / 3);

        var output = new ArrayBufferWriter<byte>();
        codec.Decompress(sequence, output);

        Assert.Equal(message, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void Trained_dictionary_beats_no_dictionary_on_small_messages()
    {
        using var codec = CodecWithDictionary();
        var dictionary = codec.Dictionaries.Get(TrainedDictionaryFixture.DictionaryId);
        // Fresh messages, not the training set.
        var messages = MobilePayloads.Samples(seed: 99, count: 200, maxItems: 2);

        long raw = 0, plain = 0, withDictionary = 0;
        foreach (var message in messages)
        {
            raw += message.Length;
            plain += Compress(codec, message.Span).Length;
            withDictionary += Compress(codec, message.Span, dictionary).Length;
        }

        // Small messages barely compress alone; the dictionary supplies the shared vocabulary.
        Assert.True(withDictionary * 10 < plain * 6, $"raw {raw} B, plain zstd {plain} B, dictionary {withDictionary} B");
        Assert.True(withDictionary * 20 < raw * 9, $"raw {raw} B, plain zstd {plain} B, dictionary {withDictionary} B");
    }

    [Fact]
    public void Unknown_dictionary_id_is_a_typed_error()
    {
        using var sender = CodecWithDictionary();
        using var receiver = new ZstdCodec();
        var frame = Compress(sender, MobilePayloads.Json(new Random(9), 1), sender.Dictionaries.Get(TrainedDictionaryFixture.DictionaryId));

        var error = Assert.Throws<ZstdException>(() => receiver.Decompress(frame, new ArrayBufferWriter<byte>()));

        Assert.Equal(ZstdErrorKind.UnknownDictionary, error.Kind);
        Assert.Equal(TrainedDictionaryFixture.DictionaryId, error.DictionaryId);
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("trailing")]
    [InlineData("magic")]
    [InlineData("empty")]
    public void Corrupted_frame_is_a_typed_error(string damage)
    {
        using var codec = new ZstdCodec();
        var frame = Compress(codec, MobilePayloads.Json(new Random(11), 3));
        byte[] bad = damage switch
        {
            "truncated" => frame[..^3],
            "trailing" => [.. frame, 0x00, 0x01],
            "magic" => [(byte)(frame[0] ^ 0xFF), .. frame[1..]],
            _ => [],
        };

        var error = Assert.Throws<ZstdException>(() => codec.Decompress(bad, new ArrayBufferWriter<byte>()));
        Assert.Equal(ZstdErrorKind.CorruptedData, error.Kind);
    }

    [Fact]
    public void Frame_whose_content_exceeds_its_declared_size_is_a_typed_error()
    {
        using var codec = new ZstdCodec();
        // Declares 100 bytes, holds one RLE byte: the size check passes, the decode must not.
        var frame = ZstdTestFrames.DeclaringContentSize(100);
        var error = Assert.Throws<ZstdException>(() => codec.Decompress(frame, new ArrayBufferWriter<byte>()));
        Assert.Equal(ZstdErrorKind.CorruptedData, error.Kind);
    }

    [Fact]
    public void Mutated_frames_decompress_or_fail_typed_never_otherwise()
    {
        using var codec = CodecWithDictionary(new ZstdCodecOptions { MaxDecompressedSize = 64 * 1024 });
        var frame = Compress(codec, MobilePayloads.Json(new Random(12), 3), codec.Dictionaries.Get(TrainedDictionaryFixture.DictionaryId));
        var output = new byte[64 * 1024];

        Prop.ForAll(
            Gen.Choose(0, frame.Length - 1).Zip(Gen.Choose(1, 255)).ToArbitrary(),
            mutation =>
            {
                var bad = (byte[])frame.Clone();
                bad[mutation.Item1] ^= (byte)mutation.Item2;
                try
                {
                    codec.Decompress(bad, output);
                }
                catch (ZstdException)
                {
                }
            }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Declared_huge_content_size_is_rejected_before_allocating()
    {
        using var codec = new ZstdCodec();
        var bomb = ZstdTestFrames.DeclaringContentSize(1UL << 40);
        var writer = new TrackingBufferWriter();
        codec.Decompress(ZstdTestFrames.DeclaringContentSize(1), new ArrayBufferWriter<byte>()); // warm the pool

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<ZstdException>(() => codec.Decompress(bomb, writer));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(ZstdErrorKind.DecompressedSizeExceeded, error.Kind);
        Assert.Equal(0, writer.LargestSizeHint);
        Assert.True(allocated < 16 * 1024, $"allocated {allocated} B");
    }

    [Fact]
    public void Highly_compressible_payload_over_the_limit_is_rejected_before_allocating()
    {
        using var codec = new ZstdCodec(new ZstdCodecOptions { MaxDecompressedSize = 1024 * 1024 });
        var zeros = new byte[16 * 1024 * 1024];
        var bomb = Compress(codec, zeros);
        Assert.True(bomb.Length < 4096, $"{bomb.Length} B");
        var writer = new TrackingBufferWriter();

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<ZstdException>(() => codec.Decompress(bomb, writer));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(ZstdErrorKind.DecompressedSizeExceeded, error.Kind);
        Assert.Equal(0, writer.WrittenCount);
        Assert.True(allocated < 16 * 1024, $"allocated {allocated} B");
        Assert.Throws<ZstdException>(() => codec.Decompress(bomb, new byte[2 * 1024 * 1024]));
    }

    [Fact]
    public void Streaming_bomb_without_content_size_stops_at_the_limit()
    {
        const int limit = 1024 * 1024;
        using var codec = new ZstdCodec(new ZstdCodecOptions { MaxDecompressedSize = limit });
        // 400 bytes that would expand to 50 MiB.
        var bomb = ZstdTestFrames.RleWithoutContentSize(blocks: 400, blockSize: 128 * 1024);
        var writer = new TrackingBufferWriter();

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<ZstdException>(() => codec.Decompress(bomb, writer));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(ZstdErrorKind.DecompressedSizeExceeded, error.Kind);
        Assert.InRange(writer.WrittenCount, limit, limit + 1);
        Assert.True(allocated < 8 * limit, $"allocated {allocated} B");
    }

    [Fact]
    public void Streaming_bomb_into_a_span_stops_at_the_limit()
    {
        using var codec = new ZstdCodec(new ZstdCodecOptions { MaxDecompressedSize = 256 * 1024 });
        var bomb = ZstdTestFrames.RleWithoutContentSize(blocks: 400, blockSize: 128 * 1024);

        var error = Assert.Throws<ZstdException>(() => codec.Decompress(bomb, new byte[1024 * 1024]));
        Assert.Equal(ZstdErrorKind.DecompressedSizeExceeded, error.Kind);

        var small = Assert.Throws<ZstdException>(() => codec.Decompress(bomb, new byte[1000]));
        Assert.Equal(ZstdErrorKind.DestinationTooSmall, small.Kind);
    }

    [Fact]
    public void Frame_without_content_size_within_the_limit_streams_correctly()
    {
        using var codec = new ZstdCodec();
        var frame = ZstdTestFrames.RleWithoutContentSize(blocks: 3, blockSize: 50_000, value: 0x41);

        var writer = new ArrayBufferWriter<byte>();
        Assert.Equal(150_000, codec.Decompress(frame, writer));
        Assert.All(writer.WrittenSpan.ToArray(), b => Assert.Equal(0x41, b));

        var exact = new byte[150_000];
        Assert.Equal(150_000, codec.Decompress(frame, exact));
        Assert.False(ZstdFrame.TryGetContentSize(frame, out _));
    }

    [Fact]
    public void Frame_without_content_size_is_rejected_when_configured()
    {
        using var codec = new ZstdCodec(new ZstdCodecOptions { AllowUnknownContentSize = false });
        var frame = ZstdTestFrames.RleWithoutContentSize(blocks: 1, blockSize: 10);

        var error = Assert.Throws<ZstdException>(() => codec.Decompress(frame, new ArrayBufferWriter<byte>()));
        Assert.Equal(ZstdErrorKind.ContentSizeUnknown, error.Kind);
    }

    [Fact]
    public void Frame_declaring_a_huge_window_is_rejected_while_streaming()
    {
        using var codec = new ZstdCodec();
        var frame = ZstdTestFrames.RleWithoutContentSize(blocks: 1, blockSize: 10, windowLog: 30);

        var error = Assert.Throws<ZstdException>(() => codec.Decompress(frame, new ArrayBufferWriter<byte>()));
        Assert.Equal(ZstdErrorKind.DecompressedSizeExceeded, error.Kind);
    }

    [Fact]
    public void Destination_span_smaller_than_declared_content_is_a_typed_error()
    {
        using var codec = new ZstdCodec();
        var frame = Compress(codec, new byte[500]);
        var error = Assert.Throws<ZstdException>(() => codec.Decompress(frame, new byte[499]));
        Assert.Equal(ZstdErrorKind.DestinationTooSmall, error.Kind);
    }

    [Fact]
    public void Steady_state_compress_and_decompress_allocate_nothing()
    {
        using var codec = CodecWithDictionary();
        var dictionary = codec.Dictionaries.Get(TrainedDictionaryFixture.DictionaryId);
        var message = MobilePayloads.Json(new Random(13), 2);
        var compressed = new ArrayBufferWriter<byte>(4096);
        var decompressed = new ArrayBufferWriter<byte>(4096);
        var span = new byte[4096];

        void Cycle()
        {
            compressed.ResetWrittenCount();
            decompressed.ResetWrittenCount();
            codec.Compress(message, compressed, dictionary);
            codec.Decompress(compressed.WrittenSpan, decompressed);
            var n = codec.Compress(message, span);
            codec.Decompress(span.AsSpan(0, n), decompressed);
        }

        for (var i = 0; i < 100; i++)
            Cycle();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
            Cycle();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Parallel_callers_share_the_context_pool_safely()
    {
        using var codec = CodecWithDictionary(new ZstdCodecOptions { ContextPoolSize = 2 });
        var dictionary = codec.Dictionaries.Get(TrainedDictionaryFixture.DictionaryId);
        var failures = 0;

        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, worker =>
        {
            var random = new Random(worker);
            var output = new ArrayBufferWriter<byte>();
            for (var i = 0; i < 250; i++)
            {
                var message = i % 2 == 0 ? MobilePayloads.Json(random, 1 + i % 4) : MobilePayloads.Protobufish(random, 1 + i % 4);
                var frame = Compress(codec, message, i % 3 == 0 ? null : dictionary);
                output.ResetWrittenCount();
                codec.Decompress(frame, output);
                if (!output.WrittenSpan.SequenceEqual(message))
                    Interlocked.Increment(ref failures);
            }
        });

        Assert.Equal(0, failures);
    }
}
