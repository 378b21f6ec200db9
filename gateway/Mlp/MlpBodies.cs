using System.Buffers;
using AccessLayer.Gateway.Mlp.Dictionaries;
using AccessLayer.Protocol.Compression;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Gateway.Mlp;

/// <summary>Body rules of docs/protocol.md §8 on the server side: decompress uplinks, compress downlinks when it pays.</summary>
internal sealed class MlpBodies(MlpDictionaryStore dictionaries, MlpOptions options)
{
    /// <summary>
    /// The uncompressed request body, copied out of the receive buffer. Stream errors: UNKNOWN_DICTIONARY
    /// (with the id), COMPRESSION_ERROR, BODY_TOO_LARGE (checked from the zstd header before allocating).
    /// </summary>
    public byte[] DecodeRequestBody(in ReadOnlySequence<byte> body, bool compressed, uint streamId)
    {
        if (!compressed)
        {
            if (body.Length > options.MaxBodySize)
                throw new MlpProtocolException(MlpErrorCode.BodyTooLarge, $"Body of {body.Length} bytes exceeds {options.MaxBodySize}.", streamId);
            return body.ToArray();
        }

        var output = new ArrayBufferWriter<byte>((int)Math.Min(Math.Max(body.Length * 4, 256), options.MaxBodySize));
        try
        {
            dictionaries.Codec.Decompress(body, output);
        }
        catch (ZstdException ex)
        {
            throw MlpCompressionErrors.ToProtocolException(ex, streamId);
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// <see cref="DecodeRequestBody"/> for a body that is given back once answered: a plain body is copied
    /// into a pooled array (<paramref name="pooled"/> true: return it to <see cref="ArrayPool{T}.Shared"/>);
    /// a compressed one is decompressed into its own array.
    /// </summary>
    public byte[] RentRequestBody(in ReadOnlySequence<byte> body, bool compressed, uint streamId, out int length, out bool pooled)
    {
        if (compressed)
        {
            var decoded = DecodeRequestBody(body, compressed, streamId);
            length = decoded.Length;
            pooled = false;
            return decoded;
        }

        if (body.Length > options.MaxBodySize)
            throw new MlpProtocolException(MlpErrorCode.BodyTooLarge, $"Body of {body.Length} bytes exceeds {options.MaxBodySize}.", streamId);
        length = (int)body.Length;
        pooled = length > 0;
        if (!pooled)
            return [];
        var rented = ArrayPool<byte>.Shared.Rent(length);
        body.CopyTo(rented);
        return rented;
    }

    /// <summary>
    /// Compresses a downlink body for a client that can take zstd: with the current dictionary when the
    /// client holds it, else plain zstd; returns the plain body when compression does not make it smaller.
    /// </summary>
    public (ReadOnlyMemory<byte> Body, bool Compressed, uint DictionaryId) EncodeBody(ReadOnlyMemory<byte> body, bool clientZstd, Func<uint, bool> clientHolds)
    {
        if (!clientZstd || body.Length < options.MinCompressSize)
            return (body, false, 0);

        var dictionary = dictionaries.Current;
        if (dictionary is not null && !clientHolds(dictionary.Id))
            dictionary = null;
        var rented = ArrayPool<byte>.Shared.Rent(ZstdFrame.GetMaxCompressedLength(body.Length));
        try
        {
            var written = dictionaries.Codec.Compress(body.Span, rented, dictionary);
            return written < body.Length ? (rented.AsSpan(0, written).ToArray(), true, dictionary?.Id ?? 0) : (body, false, 0);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
