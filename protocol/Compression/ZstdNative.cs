using System.Runtime.InteropServices;

namespace AccessLayer.Protocol.Compression;

/// <summary>
/// The slice of the libzstd 1.5 ABI this binding uses. The versioned soname is bound on
/// purpose: the unversioned <c>libzstd.so</c> only exists when the -dev package is installed.
/// </summary>
internal static unsafe partial class ZstdNative
{
    private const string Library = "libzstd.so.1";

    /// <summary>ZSTD_CONTENTSIZE_UNKNOWN: the frame header carries no content size.</summary>
    public const ulong ContentSizeUnknown = unchecked(0UL - 1);

    /// <summary>ZSTD_CONTENTSIZE_ERROR: not a valid frame header.</summary>
    public const ulong ContentSizeError = unchecked(0UL - 2);

    /// <summary>ZSTD_d_windowLogMax.</summary>
    public const int DecompressionParameterWindowLogMax = 100;

    /// <summary>ZSTD_reset_session_and_parameters.</summary>
    public const int ResetSessionAndParameters = 3;

    /// <summary>ZSTD_WINDOWLOG_LIMIT_DEFAULT: what the decoder accepts unless told otherwise.</summary>
    public const int WindowLogLimitDefault = 27;

    [StructLayout(LayoutKind.Sequential)]
    public struct InBuffer
    {
        public byte* Source;
        public nuint Size;
        public nuint Position;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct OutBuffer
    {
        public byte* Destination;
        public nuint Size;
        public nuint Position;
    }

    [LibraryImport(Library, EntryPoint = "ZSTD_isError")]
    public static partial uint IsError(nuint code);

    [LibraryImport(Library, EntryPoint = "ZSTD_getErrorCode")]
    public static partial int GetErrorCode(nuint code);

    [LibraryImport(Library, EntryPoint = "ZSTD_getErrorName")]
    public static partial nint GetErrorName(nuint code);

    [LibraryImport(Library, EntryPoint = "ZSTD_compressBound")]
    public static partial nuint CompressBound(nuint sourceSize);

    [LibraryImport(Library, EntryPoint = "ZSTD_createCCtx")]
    public static partial ZstdCompressionContextHandle CreateCCtx();

    [LibraryImport(Library, EntryPoint = "ZSTD_freeCCtx")]
    public static partial nuint FreeCCtx(nint context);

    [LibraryImport(Library, EntryPoint = "ZSTD_createDCtx")]
    public static partial ZstdDecompressionContextHandle CreateDCtx();

    [LibraryImport(Library, EntryPoint = "ZSTD_freeDCtx")]
    public static partial nuint FreeDCtx(nint context);

    [LibraryImport(Library, EntryPoint = "ZSTD_createCDict")]
    public static partial ZstdCompressionDictionaryHandle CreateCDict(byte* dictionary, nuint size, int compressionLevel);

    [LibraryImport(Library, EntryPoint = "ZSTD_freeCDict")]
    public static partial nuint FreeCDict(nint dictionary);

    [LibraryImport(Library, EntryPoint = "ZSTD_createDDict")]
    public static partial ZstdDecompressionDictionaryHandle CreateDDict(byte* dictionary, nuint size);

    [LibraryImport(Library, EntryPoint = "ZSTD_freeDDict")]
    public static partial nuint FreeDDict(nint dictionary);

    [LibraryImport(Library, EntryPoint = "ZSTD_compressCCtx")]
    public static partial nuint CompressCCtx(
        ZstdCompressionContextHandle context, byte* destination, nuint capacity, byte* source, nuint size, int compressionLevel);

    [LibraryImport(Library, EntryPoint = "ZSTD_compress_usingCDict")]
    public static partial nuint CompressUsingCDict(
        ZstdCompressionContextHandle context, byte* destination, nuint capacity, byte* source, nuint size,
        ZstdCompressionDictionaryHandle dictionary);

    [LibraryImport(Library, EntryPoint = "ZSTD_decompressDCtx")]
    public static partial nuint DecompressDCtx(
        ZstdDecompressionContextHandle context, byte* destination, nuint capacity, byte* source, nuint size);

    [LibraryImport(Library, EntryPoint = "ZSTD_decompress_usingDDict")]
    public static partial nuint DecompressUsingDDict(
        ZstdDecompressionContextHandle context, byte* destination, nuint capacity, byte* source, nuint size,
        ZstdDecompressionDictionaryHandle dictionary);

    [LibraryImport(Library, EntryPoint = "ZSTD_DCtx_reset")]
    public static partial nuint DCtxReset(ZstdDecompressionContextHandle context, int directive);

    [LibraryImport(Library, EntryPoint = "ZSTD_DCtx_setParameter")]
    public static partial nuint DCtxSetParameter(ZstdDecompressionContextHandle context, int parameter, int value);

    [LibraryImport(Library, EntryPoint = "ZSTD_DCtx_refDDict")]
    public static partial nuint DCtxRefDDict(ZstdDecompressionContextHandle context, ZstdDecompressionDictionaryHandle dictionary);

    [LibraryImport(Library, EntryPoint = "ZSTD_decompressStream")]
    public static partial nuint DecompressStream(ZstdDecompressionContextHandle context, OutBuffer* output, InBuffer* input);

    [LibraryImport(Library, EntryPoint = "ZSTD_getFrameContentSize")]
    public static partial ulong GetFrameContentSize(byte* source, nuint size);

    [LibraryImport(Library, EntryPoint = "ZSTD_findFrameCompressedSize")]
    public static partial nuint FindFrameCompressedSize(byte* source, nuint size);

    [LibraryImport(Library, EntryPoint = "ZSTD_getDictID_fromFrame")]
    public static partial uint GetDictIdFromFrame(byte* source, nuint size);

    [LibraryImport(Library, EntryPoint = "ZSTD_getDictID_fromDict")]
    public static partial uint GetDictIdFromDict(byte* dictionary, nuint size);

    [LibraryImport(Library, EntryPoint = "ZDICT_trainFromBuffer")]
    public static partial nuint TrainFromBuffer(
        byte* dictionary, nuint capacity, byte* samples, nuint* sampleSizes, uint sampleCount);

    [LibraryImport(Library, EntryPoint = "ZDICT_isError")]
    public static partial uint DictIsError(nuint code);

    [LibraryImport(Library, EntryPoint = "ZDICT_getErrorName")]
    public static partial nint DictGetErrorName(nuint code);

    public static bool Failed(nuint code) => IsError(code) != 0;

    public static string ErrorName(nuint code) => Marshal.PtrToStringUTF8(GetErrorName(code)) ?? "unknown zstd error";
}
