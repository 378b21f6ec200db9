namespace AccessLayer.Protocol.Compression;

/// <summary>Why a zstd operation failed; stable so callers can map it to a protocol error code.</summary>
public enum ZstdErrorKind
{
    /// <summary>libzstd reported an error this binding has no better name for.</summary>
    NativeError = 0,

    /// <summary>The input is not exactly one valid zstd frame (bad magic, truncated, trailing bytes, bad blocks, checksum).</summary>
    CorruptedData = 1,

    /// <summary>The frame names a dictionary id the registry does not hold.</summary>
    UnknownDictionary = 2,

    /// <summary>The frame was compressed with different dictionary content than the one registered under its id.</summary>
    DictionaryMismatch = 3,

    /// <summary>The declared or produced content exceeds the configured maximum (a decompression bomb).</summary>
    DecompressedSizeExceeded = 4,

    /// <summary>The frame does not declare its content size and the codec is configured to reject such frames.</summary>
    ContentSizeUnknown = 5,

    /// <summary>The caller's destination span is smaller than the content.</summary>
    DestinationTooSmall = 6,

    /// <summary>The bytes are not a zstd dictionary with a non-zero id.</summary>
    InvalidDictionary = 7,

    /// <summary>ZDICT could not train a dictionary from the samples (usually too few or too small samples).</summary>
    TrainingFailed = 8,
}
