namespace AccessLayer.Protocol.Compression;

/// <summary>A zstd operation failed; <see cref="Kind"/> says why.</summary>
public sealed class ZstdException : Exception
{
    public ZstdException()
        : this(ZstdErrorKind.NativeError, "zstd operation failed")
    {
    }

    public ZstdException(string message)
        : this(ZstdErrorKind.NativeError, message)
    {
    }

    public ZstdException(string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = ZstdErrorKind.NativeError;
    }

    public ZstdException(ZstdErrorKind kind, string message, uint dictionaryId = 0, int nativeErrorCode = 0)
        : base(message)
    {
        Kind = kind;
        DictionaryId = dictionaryId;
        NativeErrorCode = nativeErrorCode;
    }

    public ZstdErrorKind Kind { get; }

    /// <summary>The dictionary id involved, when there is one; 0 otherwise.</summary>
    public uint DictionaryId { get; }

    /// <summary>libzstd's ZSTD_ErrorCode when the failure came from the library; 0 otherwise.</summary>
    public int NativeErrorCode { get; }

    internal static ZstdException FromNative(nuint code, uint dictionaryId = 0)
    {
        var native = ZstdNative.GetErrorCode(code);
        var kind = native switch
        {
            // prefix_unknown, version_unsupported, frameParameter_unsupported, corruption_detected,
            // checksum_wrong, literals_headerWrong, srcSize_wrong: the bytes are not a good frame.
            10 or 12 or 14 or 20 or 22 or 24 or 72 => ZstdErrorKind.CorruptedData,
            32 => ZstdErrorKind.DictionaryMismatch,
            30 => ZstdErrorKind.InvalidDictionary,
            16 => ZstdErrorKind.DecompressedSizeExceeded,
            70 => ZstdErrorKind.DestinationTooSmall,
            _ => ZstdErrorKind.NativeError,
        };
        return new ZstdException(kind, "zstd: " + ZstdNative.ErrorName(code), dictionaryId, native);
    }
}
