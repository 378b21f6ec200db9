using System.Buffers;
using System.Buffers.Binary;

namespace AccessLayer.Protocol.Compression;

/// <summary>Trains zstd dictionaries (ZDICT_trainFromBuffer) from sample messages.</summary>
public static class ZstdDictionaryTrainer
{
    /// <summary>The largest dictionary MLP carries in a DICT frame (112 KiB).</summary>
    public const int MaxDictionarySize = 112 * 1024;

    /// <summary>Ids from 32768 up to 2^31-1 are free for private use (RFC 8878 §5).</summary>
    public const uint MinPrivateDictionaryId = 32768;

    public const uint MaxDictionaryId = int.MaxValue;

    /// <summary>
    /// Trains a dictionary of at most <paramref name="maxDictionarySize"/> bytes. With a
    /// non-zero <paramref name="dictionaryId"/> that id is written into the dictionary header
    /// (the server names its dictionaries); otherwise ZDICT picks one from the content.
    /// Throws <see cref="ZstdException"/> (TrainingFailed) when ZDICT cannot train, which
    /// happens with too few or too small samples.
    /// </summary>
    public static unsafe byte[] Train(IReadOnlyList<ReadOnlyMemory<byte>> samples, int maxDictionarySize, uint dictionaryId = 0)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDictionarySize, 256);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxDictionarySize, MaxDictionarySize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dictionaryId, MaxDictionaryId);
        if (samples.Count == 0)
            throw new ZstdException(ZstdErrorKind.TrainingFailed, "No samples to train a dictionary from.");

        long total = 0;
        foreach (var sample in samples)
            total += sample.Length;
        if (total > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(samples), "The samples exceed 2 GiB together.");

        var sizes = new nuint[samples.Count];
        var joined = ArrayPool<byte>.Shared.Rent((int)Math.Max(1, total));
        try
        {
            var offset = 0;
            for (var i = 0; i < samples.Count; i++)
            {
                samples[i].Span.CopyTo(joined.AsSpan(offset));
                sizes[i] = (nuint)samples[i].Length;
                offset += samples[i].Length;
            }

            var dictionary = new byte[maxDictionarySize];
            nuint result;
            fixed (byte* dict = dictionary)
            fixed (byte* samplesPtr = joined)
            fixed (nuint* sizesPtr = sizes)
            {
                result = ZstdNative.TrainFromBuffer(dict, (nuint)dictionary.Length, samplesPtr, sizesPtr, (uint)samples.Count);
            }

            if (ZstdNative.DictIsError(result) != 0)
            {
                var name = System.Runtime.InteropServices.Marshal.PtrToStringUTF8(ZstdNative.DictGetErrorName(result));
                throw new ZstdException(ZstdErrorKind.TrainingFailed, "Dictionary training failed: " + name);
            }

            Array.Resize(ref dictionary, (int)result);
            if (dictionaryId != 0)
                SetId(dictionary, dictionaryId);
            return dictionary;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(joined);
        }
    }

    /// <summary>
    /// Rewrites the id of a formatted dictionary in place: bytes 4..7 of the header, little
    /// endian, after the 0xEC30A437 magic (RFC 8878 §5). Nothing else depends on the id.
    /// </summary>
    public static void SetId(Span<byte> dictionary, uint dictionaryId)
    {
        ArgumentOutOfRangeException.ThrowIfZero(dictionaryId);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dictionaryId, MaxDictionaryId);
        if (dictionary.Length < 8 || BinaryPrimitives.ReadUInt32LittleEndian(dictionary) != 0xEC30A437)
            throw new ZstdException(ZstdErrorKind.InvalidDictionary, "Not a formatted zstd dictionary.");
        BinaryPrimitives.WriteUInt32LittleEndian(dictionary[4..], dictionaryId);
    }
}
