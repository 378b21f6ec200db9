using AccessLayer.Protocol.Hpack;

namespace AccessLayer.Protocol.Tests.Hpack;

/// <summary>RFC 7541 Appendix C.3–C.6: sequences of blocks sharing one context, with the tables after each.</summary>
internal static class Rfc7541Examples
{
    private static readonly (string, string)[] Request1 =
        [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")];

    private static readonly (string, string)[] Request2 =
        [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"), ("cache-control", "no-cache")];

    private static readonly (string, string)[] Request3 =
        [(":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"), ("custom-key", "custom-value")];

    private static readonly (string, string)[] Table1 = [(":authority", "www.example.com")];
    private static readonly (string, string)[] Table2 = [("cache-control", "no-cache"), (":authority", "www.example.com")];
    private static readonly (string, string)[] Table3 =
        [("custom-key", "custom-value"), ("cache-control", "no-cache"), (":authority", "www.example.com")];

    private const string Date1 = "Mon, 21 Oct 2013 20:13:21 GMT";
    private const string Date2 = "Mon, 21 Oct 2013 20:13:22 GMT";
    private const string Location = "https://www.example.com";
    private const string Cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";

    private static readonly (string, string)[] Response1 =
        [(":status", "302"), ("cache-control", "private"), ("date", Date1), ("location", Location)];

    private static readonly (string, string)[] Response2 =
        [(":status", "307"), ("cache-control", "private"), ("date", Date1), ("location", Location)];

    private static readonly (string, string)[] Response3 =
        [(":status", "200"), ("cache-control", "private"), ("date", Date2), ("location", Location), ("content-encoding", "gzip"), ("set-cookie", Cookie)];

    private static readonly (string, string)[] ResponseTable1 =
        [("location", Location), ("date", Date1), ("cache-control", "private"), (":status", "302")];

    private static readonly (string, string)[] ResponseTable2 =
        [(":status", "307"), ("location", Location), ("date", Date1), ("cache-control", "private")];

    private static readonly (string, string)[] ResponseTable3 =
        [("set-cookie", Cookie), ("content-encoding", "gzip"), ("date", Date2)];

    public static readonly IReadOnlyDictionary<string, Example> All = new Dictionary<string, Example>
    {
        ["C.3"] = new(4096, HpackHuffmanPolicy.Never,
        [
            new("828684410f7777772e6578616d706c652e636f6d", Request1, Table1, 57),
            new("828684be58086e6f2d6361636865", Request2, Table2, 110),
            new("828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565", Request3, Table3, 164),
        ]),
        ["C.4"] = new(4096, HpackHuffmanPolicy.Always,
        [
            new("828684418cf1e3c2e5f23a6ba0ab90f4ff", Request1, Table1, 57),
            new("828684be5886a8eb10649cbf", Request2, Table2, 110),
            new("828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf", Request3, Table3, 164),
        ]),
        ["C.5"] = new(256, HpackHuffmanPolicy.Never,
        [
            new("4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d",
                Response1, ResponseTable1, 222),
            new("4803333037c1c0bf", Response2, ResponseTable2, 222),
            new("88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31",
                Response3, ResponseTable3, 215),
        ]),
        ["C.6"] = new(256, HpackHuffmanPolicy.Always,
        [
            new("488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3",
                Response1, ResponseTable1, 222),
            new("4883640effc1c0bf", Response2, ResponseTable2, 222),
            new("88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
                Response3, ResponseTable3, 215),
        ]),
    };

    public static IEnumerable<object[]> Names => All.Keys.Select(k => new object[] { k });

    /// <summary>The encoder settings under which our output matches the RFC byte for byte.</summary>
    public static HpackEncoderOptions EncoderOptions(Example example) => new()
    {
        DynamicTableSizeLimit = example.TableSize,
        MaxDynamicTableSize = example.TableSize,
        Huffman = example.Huffman,
        NeverIndexNames = [],
    };

    public static HpackDecoderOptions DecoderOptions(Example example) => new() { DynamicTableSizeLimit = example.TableSize };

    internal sealed record Example(int TableSize, HpackHuffmanPolicy Huffman, Block[] Blocks);

    internal sealed record Block(string Hex, (string Name, string Value)[] Headers, (string Name, string Value)[] Table, int TableSize)
    {
        public byte[] Bytes => HpackTestUtil.Hex(Hex);
    }
}
