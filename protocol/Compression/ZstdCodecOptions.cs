namespace AccessLayer.Protocol.Compression;

public sealed class ZstdCodecOptions
{
    /// <summary>The MLP default body limit (1 MiB): the most any single frame may decompress to.</summary>
    public const int DefaultMaxDecompressedSize = 1024 * 1024;

    /// <summary>Level for compression without a dictionary; a dictionary carries its own level.</summary>
    public int CompressionLevel { get; init; } = ZstdDictionary.DefaultCompressionLevel;

    /// <summary>Upper bound on decompressed bytes; checked against the declared content size before anything is allocated.</summary>
    public int MaxDecompressedSize { get; init; } = DefaultMaxDecompressedSize;

    /// <summary>
    /// Whether frames that do not declare their content size (streaming compressors omit it)
    /// are decompressed through a bounded streaming loop (true) or rejected (false).
    /// </summary>
    public bool AllowUnknownContentSize { get; init; } = true;

    /// <summary>How many idle compression and decompression contexts are kept each.</summary>
    public int ContextPoolSize { get; init; } = Math.Max(4, Environment.ProcessorCount * 2);
}
