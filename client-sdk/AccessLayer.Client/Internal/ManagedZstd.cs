using AccessLayer.Protocol.Compression;
using ZstdSharp;
using static ZstdSharp.Unsafe.Methods;
using ProtocolZstdException = AccessLayer.Protocol.Compression.ZstdException;

namespace AccessLayer.Client.Internal;

/// <summary>
/// zstd for the SDK in managed code (ZstdSharp.Port), so it needs no native libzstd on the device; the
/// frames are the gateway's (docs/protocol.md §8): content size and dictionary id in the header, one
/// frame per body. Failures are the protocol's <see cref="ProtocolZstdException"/> kinds, as the native codec's.
/// </summary>
internal static unsafe class ManagedZstd
{
    public const int CompressionLevel = ZstdDictionary.DefaultCompressionLevel;

    private const ulong ContentSizeUnknown = ulong.MaxValue;
    private const ulong ContentSizeError = ulong.MaxValue - 1;

    /// <summary>The id in a dictionary's header; 0 when the bytes are not a zstd dictionary with one.</summary>
    public static uint DictionaryId(ReadOnlySpan<byte> content)
    {
        fixed (byte* p = content)
            return ZSTD_getDictID_fromDict(p, (nuint)content.Length);
    }

    /// <summary>The dictionary a frame names in its header; 0 none.</summary>
    public static uint FrameDictionaryId(ReadOnlySpan<byte> frame)
    {
        fixed (byte* p = frame)
            return ZSTD_getDictID_fromFrame(p, (nuint)frame.Length);
    }

    /// <summary>
    /// Checks one whole frame before decoding it: its declared content size within <paramref name="maxSize"/>,
    /// nothing after it. Returns the content size.
    /// </summary>
    public static int CheckFrame(ReadOnlySpan<byte> frame, int maxSize, uint dictionaryId)
    {
        ulong size;
        nuint frameLength;
        fixed (byte* p = frame)
        {
            size = ZSTD_getFrameContentSize(p, (nuint)frame.Length);
            frameLength = ZSTD_findFrameCompressedSize(p, (nuint)frame.Length);
        }

        if (size == ContentSizeError)
            throw new ProtocolZstdException(ZstdErrorKind.CorruptedData, "The body is not a zstd frame.", dictionaryId);
        if (size == ContentSizeUnknown)
            throw new ProtocolZstdException(ZstdErrorKind.ContentSizeUnknown, "The frame does not declare its content size.", dictionaryId);
        if (ZSTD_isError(frameLength))
            throw new ProtocolZstdException(ZstdErrorKind.CorruptedData, "Truncated or malformed zstd frame.", dictionaryId);
        if (frameLength != (nuint)frame.Length)
            throw new ProtocolZstdException(ZstdErrorKind.CorruptedData, "Bytes follow the zstd frame; a body is exactly one frame.", dictionaryId);
        if (size > (ulong)maxSize)
            throw new ProtocolZstdException(ZstdErrorKind.DecompressedSizeExceeded, $"The frame declares {size} bytes, more than the {maxSize} allowed.", dictionaryId);
        return (int)size;
    }

    /// <summary>Decodes a checked frame of <paramref name="size"/> bytes with <paramref name="decompressor"/> (its dictionary loaded).</summary>
    public static byte[] Decode(Decompressor decompressor, ReadOnlySpan<byte> frame, int size, uint dictionaryId)
    {
        var output = new byte[size];
        int written;
        try
        {
            written = decompressor.Unwrap(frame, output);
        }
        catch (ZstdSharp.ZstdException ex)
        {
            throw new ProtocolZstdException(ZstdErrorKind.CorruptedData, "Malformed zstd frame: " + ex.Message, dictionaryId);
        }

        if (written != size)
            throw new ProtocolZstdException(ZstdErrorKind.CorruptedData, "The frame holds less content than its header declares.", dictionaryId);
        return output;
    }
}
