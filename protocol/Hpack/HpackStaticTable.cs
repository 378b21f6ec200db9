using System.Text;

namespace AccessLayer.Protocol.Hpack;

/// <summary>RFC 7541 Appendix A: the 61 predefined entries, indices 1..61.</summary>
internal static class HpackStaticTable
{
    public const int Count = 61;

    private static readonly (string Name, string Value)[] Definitions =
    [
        (":authority", ""),
        (":method", "GET"),
        (":method", "POST"),
        (":path", "/"),
        (":path", "/index.html"),
        (":scheme", "http"),
        (":scheme", "https"),
        (":status", "200"),
        (":status", "204"),
        (":status", "206"),
        (":status", "304"),
        (":status", "400"),
        (":status", "404"),
        (":status", "500"),
        ("accept-charset", ""),
        ("accept-encoding", "gzip, deflate"),
        ("accept-language", ""),
        ("accept-ranges", ""),
        ("accept", ""),
        ("access-control-allow-origin", ""),
        ("age", ""),
        ("allow", ""),
        ("authorization", ""),
        ("cache-control", ""),
        ("content-disposition", ""),
        ("content-encoding", ""),
        ("content-language", ""),
        ("content-length", ""),
        ("content-location", ""),
        ("content-range", ""),
        ("content-type", ""),
        ("cookie", ""),
        ("date", ""),
        ("etag", ""),
        ("expect", ""),
        ("expires", ""),
        ("from", ""),
        ("host", ""),
        ("if-match", ""),
        ("if-modified-since", ""),
        ("if-none-match", ""),
        ("if-range", ""),
        ("if-unmodified-since", ""),
        ("last-modified", ""),
        ("link", ""),
        ("location", ""),
        ("max-forwards", ""),
        ("proxy-authenticate", ""),
        ("proxy-authorization", ""),
        ("range", ""),
        ("referer", ""),
        ("refresh", ""),
        ("retry-after", ""),
        ("server", ""),
        ("set-cookie", ""),
        ("strict-transport-security", ""),
        ("transfer-encoding", ""),
        ("user-agent", ""),
        ("vary", ""),
        ("via", ""),
        ("www-authenticate", ""),
    ];

    private static readonly byte[][] Names = Definitions.Select(d => Encoding.ASCII.GetBytes(d.Name)).ToArray();
    private static readonly byte[][] Values = Definitions.Select(d => Encoding.ASCII.GetBytes(d.Value)).ToArray();
    private static readonly int[] NameHashes = Names.Select(n => HashName(n)).ToArray();

    /// <summary>Name of entry <paramref name="index"/> (1-based, 1..61).</summary>
    public static ReadOnlySpan<byte> GetName(int index) => Names[index - 1];

    /// <summary>Value of entry <paramref name="index"/> (1-based, 1..61).</summary>
    public static ReadOnlySpan<byte> GetValue(int index) => Values[index - 1];

    /// <summary>
    /// The 1-based index of the entry equal to (name, value), or 0; <paramref name="nameIndex"/> gets the
    /// first entry with that name, or 0.
    /// </summary>
    public static int Find(ReadOnlySpan<byte> name, int nameHash, ReadOnlySpan<byte> value, out int nameIndex)
    {
        nameIndex = 0;
        var hashes = NameHashes;
        for (var i = 0; i < hashes.Length; i++)
        {
            if (hashes[i] != nameHash || !name.SequenceEqual(Names[i]))
            {
                if (nameIndex != 0)
                {
                    // Entries sharing a name are adjacent: the group is over.
                    break;
                }

                continue;
            }

            if (nameIndex == 0)
            {
                nameIndex = i + 1;
            }

            if (value.SequenceEqual(Values[i]))
            {
                return i + 1;
            }
        }

        return 0;
    }

    /// <summary>The hash both tables use to skip non-matching names cheaply.</summary>
    public static int HashName(ReadOnlySpan<byte> name)
    {
        var hash = default(HashCode);
        hash.AddBytes(name);
        return hash.ToHashCode();
    }
}
