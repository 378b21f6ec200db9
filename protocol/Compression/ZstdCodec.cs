using System.Buffers;
using System.Numerics;

namespace AccessLayer.Protocol.Compression;

/// <summary>
/// Compresses and decompresses single zstd frames with pooled native contexts. Safe to use
/// from many threads at once: every call rents its own context. Decompression finds the
/// dictionary by the id in the frame header and refuses, before allocating, any frame whose
/// declared content exceeds <see cref="ZstdCodecOptions.MaxDecompressedSize"/>; frames that
/// declare no content size are decoded by a streaming loop that stops at the same bound.
/// On an exception the destination may hold a partial, meaningless prefix.
/// </summary>
public sealed class ZstdCodec : IDisposable
{
    // The output chunk asked from an IBufferWriter while streaming a frame of unknown size.
    private const int StreamChunkSize = 32 * 1024;

    // Streaming compressors pick windows up to 2^21 at their default levels; accepting those
    // keeps interop with other-language clients while still capping the decoder's window buffer.
    private const int MinStreamingWindowLog = 21;

    private readonly ZstdContextPool<ZstdCompressionContextHandle> _compressors;
    private readonly ZstdContextPool<ZstdDecompressionContextHandle> _decompressors;
    private readonly bool _ownsDictionaries;
    private readonly int _windowLogMax;

    public ZstdCodec(ZstdCodecOptions? options = null)
        : this(new ZstdDictionaryRegistry(), options, ownsDictionaries: true)
    {
    }

    public ZstdCodec(ZstdDictionaryRegistry dictionaries, ZstdCodecOptions? options = null)
        : this(dictionaries, options, ownsDictionaries: false)
    {
    }

    private ZstdCodec(ZstdDictionaryRegistry dictionaries, ZstdCodecOptions? options, bool ownsDictionaries)
    {
        ArgumentNullException.ThrowIfNull(dictionaries);
        Options = options ?? new ZstdCodecOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(Options.MaxDecompressedSize);
        Dictionaries = dictionaries;
        _ownsDictionaries = ownsDictionaries;
        _compressors = new ZstdContextPool<ZstdCompressionContextHandle>(Options.ContextPoolSize, ZstdNative.CreateCCtx);
        _decompressors = new ZstdContextPool<ZstdDecompressionContextHandle>(Options.ContextPoolSize, ZstdNative.CreateDCtx);
        var log = 64 - BitOperations.LeadingZeroCount((ulong)Math.Max(1, Options.MaxDecompressedSize - 1));
        _windowLogMax = Math.Clamp(log, MinStreamingWindowLog, ZstdNative.WindowLogLimitDefault);
    }

    /// <summary>The dictionaries frames may name; owned by the codec only when it created them.</summary>
    public ZstdDictionaryRegistry Dictionaries { get; }

    public ZstdCodecOptions Options { get; }

    /// <summary>Compresses <paramref name="source"/> into one frame; without a dictionary the frame names none (id 0).</summary>
    public unsafe int Compress(ReadOnlySpan<byte> source, Span<byte> destination, ZstdDictionary? dictionary = null)
    {
        var context = _compressors.Rent();
        try
        {
            nuint result;
            fixed (byte* src = source)
            fixed (byte* dst = destination)
            {
                result = dictionary is null
                    ? ZstdNative.CompressCCtx(context, dst, (nuint)destination.Length, src, (nuint)source.Length, Options.CompressionLevel)
                    : ZstdNative.CompressUsingCDict(context, dst, (nuint)destination.Length, src, (nuint)source.Length, dictionary.CompressionHandle);
            }

            if (ZstdNative.Failed(result))
                throw ZstdException.FromNative(result, dictionary?.Id ?? 0);
            return (int)result;
        }
        finally
        {
            _compressors.Return(context);
        }
    }

    /// <summary>Compresses into the writer, asking it for the worst-case size once.</summary>
    public int Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, ZstdDictionary? dictionary = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var span = destination.GetSpan(ZstdFrame.GetMaxCompressedLength(source.Length));
        var written = Compress(source, span, dictionary);
        destination.Advance(written);
        return written;
    }

    public int Compress(in ReadOnlySequence<byte> source, IBufferWriter<byte> destination, ZstdDictionary? dictionary = null)
    {
        if (source.IsSingleSegment)
            return Compress(source.FirstSpan, destination, dictionary);

        var length = checked((int)source.Length);
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            source.CopyTo(rented);
            return Compress(rented.AsSpan(0, length), destination, dictionary);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Decompresses exactly one frame into <paramref name="destination"/>; returns the content length.</summary>
    public unsafe int Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var dictionary = Validate(source, out var contentSize, out var sizeKnown);
        if (sizeKnown && contentSize > (ulong)destination.Length)
            throw new ZstdException(ZstdErrorKind.DestinationTooSmall,
                $"The frame declares {contentSize} bytes but the destination holds {destination.Length}.", dictionary?.Id ?? 0);

        var context = _decompressors.Rent();
        try
        {
            if (sizeKnown)
                return DecompressKnownSize(context, source, destination[..(int)contentSize], dictionary);

            BeginStream(context, dictionary);
            fixed (byte* src = source)
            {
                var input = new ZstdNative.InBuffer { Source = src, Size = (nuint)source.Length };
                var room = Math.Min(destination.Length, Options.MaxDecompressedSize);
                var total = 0;
                // Once the destination is full, a one-byte probe tells "exactly fits" from "more follows".
                Span<byte> probe = stackalloc byte[1];
                while (true)
                {
                    var full = total == room;
                    var done = StreamStep(context, ref input, full ? probe : destination[total..room], dictionary, out var produced);
                    if (full && produced > 0)
                        throw OverLimit(room + 1, destination.Length, dictionary);
                    total += produced;
                    if (done)
                        return total;
                }
            }
        }
        finally
        {
            EndStream(context);
            _decompressors.Return(context);
        }
    }

    /// <summary>
    /// Decompresses exactly one frame into the writer; returns the content length. With a
    /// declared content size the writer is asked for exactly that many bytes, once.
    /// </summary>
    public unsafe int Decompress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var dictionary = Validate(source, out var contentSize, out var sizeKnown);
        var context = _decompressors.Rent();
        try
        {
            if (sizeKnown)
            {
                var size = (int)contentSize;
                var written = DecompressKnownSize(context, source, destination.GetSpan(size)[..size], dictionary);
                destination.Advance(written);
                return written;
            }

            BeginStream(context, dictionary);
            fixed (byte* src = source)
            {
                var input = new ZstdNative.InBuffer { Source = src, Size = (nuint)source.Length };
                var limit = Options.MaxDecompressedSize;
                var total = 0;
                while (true)
                {
                    var room = limit - total + 1;
                    var chunk = destination.GetSpan(Math.Min(room, StreamChunkSize));
                    if (chunk.Length > room)
                        chunk = chunk[..room];
                    var done = StreamStep(context, ref input, chunk, dictionary, out var produced);
                    destination.Advance(produced);
                    total += produced;
                    if (total > limit)
                        throw OverLimit(total, int.MaxValue, dictionary);
                    if (done)
                        return total;
                }
            }
        }
        finally
        {
            EndStream(context);
            _decompressors.Return(context);
        }
    }

    public int Decompress(in ReadOnlySequence<byte> source, IBufferWriter<byte> destination)
    {
        if (source.IsSingleSegment)
            return Decompress(source.FirstSpan, destination);

        // A frame body split across pipe segments is rare (bodies are small); one pooled copy.
        var length = checked((int)source.Length);
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            source.CopyTo(rented);
            return Decompress(rented.AsSpan(0, length), destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public void Dispose()
    {
        _compressors.Dispose();
        _decompressors.Dispose();
        if (_ownsDictionaries)
            Dictionaries.Dispose();
    }

    /// <summary>
    /// Everything checked before a byte of output is allocated: the dictionary exists, the
    /// input is exactly one frame, and its declared size is within the limit.
    /// </summary>
    private unsafe ZstdDictionary? Validate(ReadOnlySpan<byte> source, out ulong contentSize, out bool sizeKnown)
    {
        ulong declared;
        nuint frameLength;
        uint dictionaryId;
        fixed (byte* src = source)
        {
            declared = ZstdNative.GetFrameContentSize(src, (nuint)source.Length);
            if (declared == ZstdNative.ContentSizeError)
                throw new ZstdException(ZstdErrorKind.CorruptedData, "The body is not a zstd frame.");
            dictionaryId = ZstdNative.GetDictIdFromFrame(src, (nuint)source.Length);
            frameLength = ZstdNative.FindFrameCompressedSize(src, (nuint)source.Length);
        }

        ZstdDictionary? dictionary = null;
        if (dictionaryId != 0 && !Dictionaries.TryGet(dictionaryId, out dictionary))
            throw new ZstdException(ZstdErrorKind.UnknownDictionary, $"The frame names zstd dictionary {dictionaryId}, which is not registered.", dictionaryId);

        if (ZstdNative.Failed(frameLength))
            throw new ZstdException(ZstdErrorKind.CorruptedData, "Truncated or malformed zstd frame: " + ZstdNative.ErrorName(frameLength), dictionaryId, ZstdNative.GetErrorCode(frameLength));
        if (frameLength != (nuint)source.Length)
            throw new ZstdException(ZstdErrorKind.CorruptedData, "Bytes follow the zstd frame; a body is exactly one frame.", dictionaryId);

        sizeKnown = declared != ZstdNative.ContentSizeUnknown;
        contentSize = sizeKnown ? declared : 0;
        if (sizeKnown && declared > (ulong)Options.MaxDecompressedSize)
            throw new ZstdException(ZstdErrorKind.DecompressedSizeExceeded,
                $"The frame declares {declared} bytes; the limit is {Options.MaxDecompressedSize}.", dictionaryId);
        if (!sizeKnown && !Options.AllowUnknownContentSize)
            throw new ZstdException(ZstdErrorKind.ContentSizeUnknown, "The frame does not declare its content size.", dictionaryId);
        return dictionary;
    }

    private static unsafe int DecompressKnownSize(ZstdDecompressionContextHandle context, ReadOnlySpan<byte> source, Span<byte> destination, ZstdDictionary? dictionary)
    {
        nuint result;
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            result = dictionary is null
                ? ZstdNative.DecompressDCtx(context, dst, (nuint)destination.Length, src, (nuint)source.Length)
                : ZstdNative.DecompressUsingDDict(context, dst, (nuint)destination.Length, src, (nuint)source.Length, dictionary.DecompressionHandle);
        }

        if (ZstdNative.Failed(result))
        {
            var error = ZstdException.FromNative(result, dictionary?.Id ?? 0);
            // The destination was sized from the header, so "too small" means the header lied.
            throw error.Kind == ZstdErrorKind.DestinationTooSmall
                ? new ZstdException(ZstdErrorKind.CorruptedData, "The frame holds more content than its header declares.", error.DictionaryId, error.NativeErrorCode)
                : error;
        }

        if (result != (nuint)destination.Length)
            throw new ZstdException(ZstdErrorKind.CorruptedData, "The frame holds less content than its header declares.", dictionary?.Id ?? 0);
        return (int)result;
    }

    private void BeginStream(ZstdDecompressionContextHandle context, ZstdDictionary? dictionary)
    {
        // The window buffer is what a streaming frame makes the decoder allocate; cap it.
        var result = ZstdNative.DCtxSetParameter(context, ZstdNative.DecompressionParameterWindowLogMax, _windowLogMax);
        if (ZstdNative.Failed(result))
            throw ZstdException.FromNative(result);
        if (dictionary is not null)
        {
            result = ZstdNative.DCtxRefDDict(context, dictionary.DecompressionHandle);
            if (ZstdNative.Failed(result))
                throw ZstdException.FromNative(result, dictionary.Id);
        }
    }

    private static void EndStream(ZstdDecompressionContextHandle context)
    {
        // Drops the DDict reference and the window limit so the pooled context starts clean;
        // harmless after a one-shot call, which leaves no sticky state.
        ZstdNative.DCtxReset(context, ZstdNative.ResetSessionAndParameters);
    }

    /// <summary>One ZSTD_decompressStream call; true once the frame is fully decoded and flushed.</summary>
    private static unsafe bool StreamStep(ZstdDecompressionContextHandle context, ref ZstdNative.InBuffer input, Span<byte> output, ZstdDictionary? dictionary, out int produced)
    {
        nuint result;
        var consumedBefore = input.Position;
        fixed (byte* dst = output)
        fixed (ZstdNative.InBuffer* inPtr = &input)
        {
            var outBuffer = new ZstdNative.OutBuffer { Destination = dst, Size = (nuint)output.Length };
            result = ZstdNative.DecompressStream(context, &outBuffer, inPtr);
            produced = (int)outBuffer.Position;
        }

        if (ZstdNative.Failed(result))
            throw ZstdException.FromNative(result, dictionary?.Id ?? 0);
        if (result == 0)
            return true;
        if (produced == 0 && input.Position == consumedBefore)
            throw new ZstdException(ZstdErrorKind.CorruptedData, "The zstd frame is truncated.", dictionary?.Id ?? 0);
        return false;
    }

    private ZstdException OverLimit(int produced, int destinationLength, ZstdDictionary? dictionary) =>
        produced > Options.MaxDecompressedSize
            ? new ZstdException(ZstdErrorKind.DecompressedSizeExceeded,
                $"The frame decompresses past the limit of {Options.MaxDecompressedSize} bytes.", dictionary?.Id ?? 0)
            : new ZstdException(ZstdErrorKind.DestinationTooSmall,
                $"The frame decompresses past the destination's {destinationLength} bytes.", dictionary?.Id ?? 0);
}
