using System.Buffers;
using System.Buffers.Binary;
using AccessLayer.Protocol.Hpack;

namespace AccessLayer.Fuzz.Targets;

/// <summary>
/// HPACK as an MLP connection decodes it: one decoder per connection (gateway limits: 4096-octet table,
/// 16 KiB header list and string), many blocks in a row sharing its dynamic table, and table size limit
/// changes between blocks (what SETTINGS/WELCOME do). Input: a mode byte, then records of
/// <c>control:1 | length:2 | block</c>; a control byte with its top bit set first sets the limit to one
/// of 4096, 0, 256 or 65536. A connection error ends the input (the gateway closes); a too-long header
/// list is a stream error and decoding goes on. After every block the table must be within its limit.
/// Documented error: <see cref="HpackDecodingException"/>.
/// </summary>
public sealed class HpackFuzzTarget : IFuzzTarget
{
    public const int MaxHeaderListSize = 16 * 1024;

    private static readonly int[] Limits = [4096, 0, 256, 65536];

    private static readonly IReadOnlyList<byte[]> SharedCorpus = BuildCorpus();

    public string Name => "hpack";

    public IReadOnlyList<byte[]> Corpus => SharedCorpus;

    public long MaxRetained { get; private set; }

    /// <summary>The largest table limit used, or the header list limit plus one field's overhead, whichever is larger.</summary>
    public long RetainedBound => 65536;

    public bool IsExpected(Exception exception) => exception is HpackDecodingException;

    public void Run(in ReadOnlySequence<byte> input)
    {
        var reader = new SequenceReader<byte>(input);
        if (!reader.TryRead(out var mode))
        {
            return;
        }

        var decoder = new HpackDecoder(new HpackDecoderOptions { DynamicTableSizeLimit = Limits[mode & 3], MaxHeaderListSize = MaxHeaderListSize, MaxStringLength = MaxHeaderListSize });
        HpackDecodingException? streamError = null;
        while (reader.TryRead(out var control))
        {
            if ((control & 0x80) != 0)
            {
                decoder.SetDynamicTableSizeLimit(Limits[control & 3]);
            }

            var length = reader.TryReadBigEndian(out short declared) ? (ushort)declared : 0;
            var block = reader.UnreadSequence.Slice(0, Math.Min(length, reader.Remaining));
            reader.Advance(block.Length);
            var handler = new Counter();
            try
            {
                decoder.Decode(block, ref handler);
            }
            catch (HpackDecodingException e) when (!e.IsConnectionError)
            {
                streamError = e;
            }

            // Delivered fields stop at the list limit; the table stays within the limit in force.
            MaxRetained = Math.Max(MaxRetained, Math.Max(handler.Octets, decoder.DynamicTableSize));
            if (handler.Octets > MaxHeaderListSize || decoder.DynamicTableSize > decoder.DynamicTableMaxSize || decoder.DynamicTableMaxSize > decoder.DynamicTableSizeLimit)
            {
                throw new FuzzBoundException($"HPACK delivered {handler.Octets} octets with table {decoder.DynamicTableSize}/{decoder.DynamicTableMaxSize} (limit {decoder.DynamicTableSizeLimit}).");
            }
        }

        if (streamError is not null)
        {
            throw streamError;
        }
    }

    private static List<byte[]> BuildCorpus()
    {
        var corpus = new List<byte[]>();
        foreach (var huffman in new[] { HpackHuffmanPolicy.Never, HpackHuffmanPolicy.Always, HpackHuffmanPolicy.WhenShorter })
        {
            foreach (var limitIndex in new[] { 0, 2 })
            {
                // A connection's worth of blocks, with one limit change in the middle.
                var encoder = new HpackEncoder(new HpackEncoderOptions { Huffman = huffman });
                encoder.SetDynamicTableSizeLimit(Limits[limitIndex]);
                var stream = new List<byte> { (byte)limitIndex };
                for (var i = 0; i < HeaderSamples.Lists.Length * 2; i++)
                {
                    byte control = 0;
                    if (i == HeaderSamples.Lists.Length)
                    {
                        var next = limitIndex == 0 ? 2 : 0;
                        encoder.SetDynamicTableSizeLimit(Limits[next]);
                        control = (byte)(0x80 | next);
                    }

                    var output = new ArrayBufferWriter<byte>();
                    encoder.Encode(HeaderSamples.Lists[i % HeaderSamples.Lists.Length], output);
                    var block = output.WrittenSpan;
                    var length = new byte[2];
                    BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)block.Length);
                    stream.Add(control);
                    stream.AddRange(length);
                    stream.AddRange(block.ToArray());
                    corpus.Add([(byte)limitIndex, control, length[0], length[1], .. block]);
                }

                corpus.Add([.. stream]);
            }
        }

        return corpus;
    }

    private struct Counter : IHpackHeaderHandler
    {
        public long Octets;

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => Octets += 32 + name.Length + value.Length;
    }
}
