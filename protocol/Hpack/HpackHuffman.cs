namespace AccessLayer.Protocol.Hpack;

/// <summary>
/// RFC 7541 Appendix B Huffman code. The code is canonical, so the per-symbol bit lengths define it; codes
/// are rebuilt from them once. Decoding walks the code tree four bits at a time through a precomputed
/// state table (256 internal nodes × 16 nibbles); a state carries over between calls, so a string may be
/// fed in pieces split at any octet.
/// </summary>
internal static class HpackHuffman
{
    public const int EndOfString = 256;

    private const uint EmitFlag = 1u << 16;
    private const uint FailFlag = 1u << 17;
    private const int MaxPaddingBits = 7;

    private static readonly byte[] CodeLengths =
    [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0x00
        28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 0x10
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,         // 0x20 ' '..'/'
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,               // 0x30 '0'..'?'
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,                 // 0x40 '@'..'O'
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,              // 0x50 'P'..'_'
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,                 // 0x60 '`'..'o'
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,             // 0x70 'p'..DEL
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,  // 0x80
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,  // 0x90
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,  // 0xA0
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,  // 0xB0
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,  // 0xC0
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,  // 0xD0
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,  // 0xE0
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,  // 0xF0
        30,                                                              // EOS
    ];

    private static readonly uint[] Codes = BuildCodes();
    private static readonly bool[] Accepting = new bool[256];
    private static readonly uint[] DecodeTable = BuildDecodeTable();

    /// <summary>Octets the Huffman form of <paramref name="source"/> takes, padding included.</summary>
    public static int GetEncodedLength(ReadOnlySpan<byte> source)
    {
        long bits = 0;
        var lengths = CodeLengths;
        foreach (var b in source)
        {
            bits += lengths[b];
        }

        return (int)((bits + 7) >> 3);
    }

    /// <summary>Writes the Huffman form (EOS-prefix padded); returns the octets written.</summary>
    public static int Encode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var lengths = CodeLengths;
        var codes = Codes;
        ulong pending = 0;
        var bits = 0;
        var written = 0;
        foreach (var b in source)
        {
            // At most 7 bits are pending before a 30-bit code, so 64 bits never overflow.
            pending = (pending << lengths[b]) | codes[b];
            bits += lengths[b];
            while (bits >= 8)
            {
                bits -= 8;
                destination[written++] = (byte)(pending >> bits);
            }
        }

        if (bits > 0)
        {
            destination[written++] = (byte)((pending << (8 - bits)) | (0xFFu >> bits));
        }

        return written;
    }

    /// <summary>
    /// Decodes a piece of a Huffman string into <paramref name="destination"/>, continuing from
    /// <paramref name="state"/> (0 at the start of a string); returns the octets written. Call
    /// <see cref="ValidateEnd"/> after the last piece.
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> source, Span<byte> destination, ref int state)
    {
        var table = DecodeTable;
        var current = state;
        var written = 0;
        foreach (var b in source)
        {
            var entry = table[(current << 4) | (b >> 4)];
            if ((entry & (EmitFlag | FailFlag)) != 0)
            {
                Emit(entry, destination, ref written);
            }

            entry = table[((int)(entry & 0xFF) << 4) | (b & 0x0F)];
            if ((entry & (EmitFlag | FailFlag)) != 0)
            {
                Emit(entry, destination, ref written);
            }

            current = (int)(entry & 0xFF);
        }

        state = current;
        return written;
    }

    /// <summary>Rejects a string whose last bits are not a valid padding (≤ 7 bits, all ones).</summary>
    public static void ValidateEnd(int state)
    {
        if (!Accepting[state])
        {
            throw new HpackDecodingException(HpackErrorKind.InvalidHuffman,
                "Huffman padding is longer than 7 bits or not the most significant bits of EOS.");
        }
    }

    /// <summary>Decodes a whole Huffman string; returns the octets written.</summary>
    public static int Decode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var state = 0;
        var written = Decode(source, destination, ref state);
        ValidateEnd(state);
        return written;
    }

    private static void Emit(uint entry, Span<byte> destination, ref int written)
    {
        if ((entry & FailFlag) != 0)
        {
            throw new HpackDecodingException(HpackErrorKind.InvalidHuffman, "A Huffman string contains the EOS symbol.");
        }

        if ((uint)written >= (uint)destination.Length)
        {
            throw new HpackDecodingException(HpackErrorKind.StringTooLong, "A Huffman string decodes past the maximum string length.");
        }

        destination[written++] = (byte)(entry >> 8);
    }

    private static uint[] BuildCodes()
    {
        // Canonical assignment: by length, then by symbol; each length continues the previous code shifted.
        var symbols = Enumerable.Range(0, CodeLengths.Length)
            .OrderBy(s => CodeLengths[s]).ThenBy(s => s).ToArray();
        var codes = new uint[CodeLengths.Length];
        uint code = 0;
        var previousLength = CodeLengths[symbols[0]];
        foreach (var symbol in symbols)
        {
            code <<= CodeLengths[symbol] - previousLength;
            previousLength = CodeLengths[symbol];
            codes[symbol] = code++;
        }

        return codes;
    }

    private static uint[] BuildDecodeTable()
    {
        // Internal nodes 0..255 (0 is the root); a child below zero is the leaf ~symbol.
        var children = new int[256, 2];
        var nodes = 1;
        for (var symbol = 0; symbol < CodeLengths.Length; symbol++)
        {
            var node = 0;
            for (var bit = CodeLengths[symbol] - 1; bit >= 0; bit--)
            {
                var branch = (int)((Codes[symbol] >> bit) & 1);
                if (bit == 0)
                {
                    children[node, branch] = ~symbol;
                }
                else
                {
                    if (children[node, branch] == 0)
                    {
                        children[node, branch] = nodes++;
                    }

                    node = children[node, branch];
                }
            }
        }

        // A string may end on the root or on the first seven nodes of the all-ones (EOS) path.
        var onesPath = 0;
        for (var depth = 0; depth <= MaxPaddingBits; depth++)
        {
            Accepting[onesPath] = true;
            onesPath = children[onesPath, 1];
        }

        var table = new uint[256 * 16];
        for (var state = 0; state < nodes; state++)
        {
            for (var nibble = 0; nibble < 16; nibble++)
            {
                var node = state;
                uint flags = 0;
                var symbol = 0;
                for (var bit = 3; bit >= 0; bit--)
                {
                    var child = children[node, (nibble >> bit) & 1];
                    if (child >= 0)
                    {
                        node = child;
                        continue;
                    }

                    // Codes are at least 5 bits, so a nibble completes at most one symbol.
                    symbol = ~child;
                    if (symbol == EndOfString)
                    {
                        flags = FailFlag;
                        symbol = 0;
                        break;
                    }

                    flags = EmitFlag;
                    node = 0;
                }

                table[(state << 4) | nibble] = flags | ((uint)symbol << 8) | (uint)node;
            }
        }

        return table;
    }
}
