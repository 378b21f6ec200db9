using System.Buffers;
using System.Text.Json;
using AccessLayer.Protocol.Hpack;
using static AccessLayer.Protocol.Tests.Hpack.HpackTestUtil;

namespace AccessLayer.Protocol.Tests.Hpack;

/// <summary>
/// The hpack-test-case interoperability corpus (vendored in TestData/hpack-test-case, MIT): every story of every
/// encoder decodes to its headers, and every story re-encoded by our encoder decodes back.
/// A missing corpus fails these tests; it never skips them.
/// </summary>
public class HpackCorpusTests
{
    private const string CorpusRelativePath = "TestData/hpack-test-case";

    private static readonly Lazy<string> Root = new(FindCorpus);

    public static IEnumerable<object[]> EncodedStories() => Stories(folder => folder != "raw-data");

    public static IEnumerable<object[]> AllStories() => Stories(_ => true);

    [Fact]
    public void Corpus_has_every_encoder_folder_with_its_stories()
    {
        var folders = Directory.GetDirectories(Root.Value).Select(Path.GetFileName).ToHashSet();
        foreach (var expected in new[] { "go-hpack", "nghttp2", "nghttp2-change-table-size", "python-hpack", "raw-data", "swift-nio-hpack-huffman" })
        {
            Assert.Contains(expected, folders);
            Assert.True(Directory.GetFiles(Path.Combine(Root.Value, expected), "story_*.json").Length >= 30, expected);
        }

        Assert.True(EncodedStories().Count() >= 150);
    }

    [Theory]
    [MemberData(nameof(EncodedStories))]
    public void Decode_every_case_of_story_yields_its_headers(string story)
    {
        var cases = Load(story);
        var decoder = new HpackDecoder();
        foreach (var c in cases)
        {
            if (c.TableSizeLimit is { } limit)
            {
                decoder.SetDynamicTableSizeLimit(limit);
            }

            var wire = Hex(c.Wire!);
            Assert.True(c.Headers.SequenceEqual(DecodeAll(decoder, wire)), $"{story} seqno {c.Seqno}");

            Assert.True(decoder.DynamicTableSize <= decoder.DynamicTableMaxSize);
        }

        // Once more with every block split into one-octet segments.
        decoder = new HpackDecoder();
        foreach (var c in cases)
        {
            if (c.TableSizeLimit is { } limit)
            {
                decoder.SetDynamicTableSizeLimit(limit);
            }

            Assert.True(c.Headers.SequenceEqual(DecodeAll(decoder, OneByteSegments(Hex(c.Wire!)))), $"{story} seqno {c.Seqno} (1-octet segments)");
        }
    }

    [Theory]
    [MemberData(nameof(AllStories))]
    public void Reencode_every_story_with_our_encoder_and_decode_back(string story)
    {
        var cases = Load(story);
        // Our defaults; raw strings only; and, to compare with the reference encoders (which index
        // cookies), with no never-indexed names.
        foreach (var (name, options) in new (string, HpackEncoderOptions)[]
        {
            ("default", new HpackEncoderOptions()),
            ("raw", new HpackEncoderOptions { Huffman = HpackHuffmanPolicy.Never }),
            ("reference-like", new HpackEncoderOptions { NeverIndexNames = [] }),
        })
        {
            var encoder = new HpackEncoder(options);
            var decoder = new HpackDecoder();
            long ours = 0;
            long literal = 0;
            foreach (var c in cases)
            {
                if (c.TableSizeLimit is { } limit)
                {
                    encoder.SetDynamicTableSizeLimit(limit);
                    decoder.SetDynamicTableSizeLimit(limit);
                }

                var output = new ArrayBufferWriter<byte>();
                encoder.Encode(c.Headers.Select(h => new HeaderField(h.Name, h.Value)).ToArray(), output);
                Assert.True(c.Headers.SequenceEqual(DecodeAll(decoder, new ReadOnlySequence<byte>(output.WrittenMemory))), $"{story} seqno {c.Seqno}");
                Assert.Equal(TableEntries(encoder.DynamicTable), TableEntries(decoder.DynamicTable));

                // Never worse than sending every field as a plain literal (prefix + two length octets each).
                var plain = c.Headers.Sum(h => 3 + h.Name.Length + h.Value.Length) + 8;
                Assert.True(output.WrittenCount <= plain, $"{story} seqno {c.Seqno}: {output.WrittenCount} > {plain}");
                ours += output.WrittenCount;
                literal += plain;
            }

            // Over a story the context pays: at most 60% of the plain size (corpus stories compress to ~20-35%).
            Assert.True(ours * 10 <= literal * 6, $"{story} {name}: {ours} of {literal} octets");

            if (name == "reference-like" && !story.StartsWith("raw-data", StringComparison.Ordinal))
            {
                // And within 20% of the reference encoder that produced this story. Over the whole corpus
                // we are ~25% smaller; the worst story (nghttp2 story_20, 138 distinct :path values that
                // nghttp2 does not index) is 15% larger.
                var theirs = cases.Sum(c => c.Wire!.Length / 2);
                Assert.True(ours * 10 <= theirs * 12, $"{story}: ours {ours} vs reference {theirs} octets");
            }
        }
    }

    private static IEnumerable<object[]> Stories(Func<string, bool> folderFilter) =>
        Directory.GetDirectories(Root.Value)
            .Select(Path.GetFileName)
            .Where(folder => folderFilter(folder!))
            .Order(StringComparer.Ordinal)
            .SelectMany(folder => Directory.GetFiles(Path.Combine(Root.Value, folder!), "*.json")
                .Select(Path.GetFileName)
                .Order(StringComparer.Ordinal)
                .Select(file => new object[] { $"{folder}/{file}" }));

    private static List<Case> Load(string story)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Root.Value, story)));
        var cases = new List<Case>();
        foreach (var c in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            // raw-data has no seqno; swift-nio writes "header_table_size": null for "unchanged".
            var headers = c.GetProperty("headers").EnumerateArray()
                .SelectMany(h => h.EnumerateObject().Select(p => (p.Name, p.Value.GetString()!)))
                .ToList();
            cases.Add(new Case(
                c.TryGetProperty("seqno", out var seqno) ? seqno.GetInt32() : cases.Count,
                c.TryGetProperty("header_table_size", out var size) && size.ValueKind == JsonValueKind.Number ? size.GetInt32() : null,
                c.TryGetProperty("wire", out var wire) ? wire.GetString() : null,
                headers));
        }

        Assert.NotEmpty(cases);
        return cases;
    }

    private static string FindCorpus()
    {
        // The corpus is vendored in the repository and copied beside the test assembly by the build.
        var corpus = Path.Combine(AppContext.BaseDirectory, CorpusRelativePath);
        return Directory.Exists(corpus)
            ? corpus
            : throw new DirectoryNotFoundException($"The vendored HPACK corpus '{corpus}' is missing; it is copied from the test project's TestData by the build.");
    }

    private sealed record Case(int Seqno, int? TableSizeLimit, string? Wire, List<(string Name, string Value)> Headers);
}
