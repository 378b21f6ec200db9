namespace AccessLayer.Protocol.Compression;

/// <summary>Reads what a zstd frame header declares without decompressing anything.</summary>
public static class ZstdFrame
{
    /// <summary>The 4 magic bytes every zstd frame starts with (0xFD2FB528, little endian).</summary>
    public static ReadOnlySpan<byte> Magic => [0x28, 0xB5, 0x2F, 0xFD];

    /// <summary>
    /// The dictionary id written in the frame header: the dictionary the receiver must use.
    /// 0 when the frame names no dictionary or the header is incomplete.
    /// </summary>
    public static unsafe uint GetDictionaryId(ReadOnlySpan<byte> frame)
    {
        fixed (byte* p = frame)
            return ZstdNative.GetDictIdFromFrame(p, (nuint)frame.Length);
    }

    /// <summary>
    /// The content size the frame header declares. False when the header omits it;
    /// <see cref="ZstdException"/> (CorruptedData) when the bytes are not a frame header.
    /// </summary>
    public static unsafe bool TryGetContentSize(ReadOnlySpan<byte> frame, out ulong contentSize)
    {
        ulong size;
        fixed (byte* p = frame)
            size = ZstdNative.GetFrameContentSize(p, (nuint)frame.Length);
        if (size == ZstdNative.ContentSizeError)
            throw new ZstdException(ZstdErrorKind.CorruptedData, "Not a zstd frame header.");
        contentSize = size == ZstdNative.ContentSizeUnknown ? 0 : size;
        return size != ZstdNative.ContentSizeUnknown;
    }

    /// <summary>Worst-case compressed size of <paramref name="sourceLength"/> bytes.</summary>
    public static int GetMaxCompressedLength(int sourceLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sourceLength);
        return checked((int)ZstdNative.CompressBound((nuint)sourceLength));
    }
}
