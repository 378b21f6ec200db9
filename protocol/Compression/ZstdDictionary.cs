namespace AccessLayer.Protocol.Compression;

/// <summary>
/// A zstd dictionary prepared for both directions: the digested compression (CDict) and
/// decompression (DDict) forms are built once and shared by every call. The id comes from
/// the dictionary header and is what a zstd frame header names, so a dictionary without an
/// id (raw content) is refused: the receiver could not tell which dictionary to use.
/// </summary>
public sealed class ZstdDictionary : IDisposable
{
    public const int DefaultCompressionLevel = 3;

    private readonly byte[] _content;

    private ZstdDictionary(byte[] content, uint id, int compressionLevel,
        ZstdCompressionDictionaryHandle compression, ZstdDecompressionDictionaryHandle decompression)
    {
        _content = content;
        Id = id;
        CompressionLevel = compressionLevel;
        CompressionHandle = compression;
        DecompressionHandle = decompression;
    }

    /// <summary>The dictionary id from its header (never 0).</summary>
    public uint Id { get; }

    /// <summary>The dictionary bytes as they travel in a DICT frame.</summary>
    public ReadOnlyMemory<byte> Content => _content;

    public int CompressionLevel { get; }

    internal ZstdCompressionDictionaryHandle CompressionHandle { get; }

    internal ZstdDecompressionDictionaryHandle DecompressionHandle { get; }

    /// <summary>Reads the id of a formatted dictionary; 0 when the bytes carry none.</summary>
    public static unsafe uint GetId(ReadOnlySpan<byte> content)
    {
        fixed (byte* p = content)
            return ZstdNative.GetDictIdFromDict(p, (nuint)content.Length);
    }

    /// <summary>Copies and digests <paramref name="content"/>; throws <see cref="ZstdException"/> (InvalidDictionary) when it is not a usable dictionary.</summary>
    public static unsafe ZstdDictionary Create(ReadOnlySpan<byte> content, int compressionLevel = DefaultCompressionLevel)
    {
        var id = GetId(content);
        if (id == 0)
            throw new ZstdException(ZstdErrorKind.InvalidDictionary, "The bytes are not a zstd dictionary with a dictionary id.");

        var copy = content.ToArray();
        ZstdCompressionDictionaryHandle? compression = null;
        ZstdDecompressionDictionaryHandle? decompression = null;
        fixed (byte* p = copy)
        {
            try
            {
                compression = ZstdNative.CreateCDict(p, (nuint)copy.Length, compressionLevel);
                decompression = ZstdNative.CreateDDict(p, (nuint)copy.Length);
                if (compression.IsInvalid || decompression.IsInvalid)
                    throw new ZstdException(ZstdErrorKind.InvalidDictionary, $"libzstd rejected dictionary {id}.", id);
            }
            catch
            {
                compression?.Dispose();
                decompression?.Dispose();
                throw;
            }
        }

        return new ZstdDictionary(copy, id, compressionLevel, compression, decompression);
    }

    public void Dispose()
    {
        CompressionHandle.Dispose();
        DecompressionHandle.Dispose();
    }
}
