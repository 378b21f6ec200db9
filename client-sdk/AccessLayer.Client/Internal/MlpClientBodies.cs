using System.Buffers;
using AccessLayer.Client.Dictionaries;
using AccessLayer.Protocol.Compression;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Client.Internal;

/// <summary>The client's side of docs/protocol.md §8-9: its dictionaries (from the store, and DICT data), body compression and decompression.</summary>
internal sealed class MlpClientBodies : IDisposable
{
    private readonly ZstdDictionaryRegistry _registry = new();
    private readonly IMlpDictionaryStore _store;
    private readonly int _minCompressSize;

    public MlpClientBodies(IMlpDictionaryStore store, int maxBodySize, int minCompressSize)
    {
        _store = store;
        _minCompressSize = minCompressSize;
        Codec = new ZstdCodec(_registry, new ZstdCodecOptions { MaxDecompressedSize = maxBodySize });
        foreach (var id in store.Ids)
        {
            if (store.TryLoad(id, out var content))
                TryRegister(id, content);
        }
    }

    public ZstdCodec Codec { get; }

    /// <summary>Ids held, newest first, at most the 16 a HELLO may list.</summary>
    public IReadOnlyList<uint> HeldIds => [.. _registry.Ids.OrderDescending().Take(MlpLimits.MaxAnnouncedDictionaries)];

    public bool Holds(uint id) => _registry.Contains(id);

    /// <summary>Keeps a dictionary received in DICT data (or over HTTP) when its header id matches and it loads; false otherwise.</summary>
    public bool Add(uint id, byte[] content)
    {
        if (!TryRegister(id, content))
            return false;
        _store.Save(id, content);
        return true;
    }

    private bool TryRegister(uint id, byte[] content)
    {
        if (id == 0 || content.Length == 0 || content.Length > MlpLimits.MaxDictionarySize || ZstdDictionary.GetId(content) != id)
            return false;
        if (_registry.Contains(id))
            return true;
        try
        {
            var dictionary = ZstdDictionary.Create(content);
            if (!_registry.TryAdd(dictionary))
                dictionary.Dispose();
            return true;
        }
        catch (ZstdException)
        {
            return false;
        }
    }

    /// <summary>
    /// Compresses a request body with the first of <paramref name="preferred"/> the client holds (else plain
    /// zstd); the plain body when compression does not help.
    /// </summary>
    public (ReadOnlyMemory<byte> Body, bool Compressed, uint DictionaryId) Compress(ReadOnlyMemory<byte> body, IEnumerable<uint> preferred)
    {
        if (body.Length < _minCompressSize)
            return (body, false, 0);
        ZstdDictionary? dictionary = null;
        foreach (var id in preferred)
        {
            if (id != 0 && _registry.TryGet(id, out dictionary))
                break;
        }

        var rented = ArrayPool<byte>.Shared.Rent(ZstdFrame.GetMaxCompressedLength(body.Length));
        try
        {
            var written = Codec.Compress(body.Span, rented, dictionary);
            return written < body.Length ? (rented.AsSpan(0, written).ToArray(), true, dictionary?.Id ?? 0) : (body, false, 0);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The body as the app sees it; throws <see cref="ZstdException"/> for an undecodable one.</summary>
    public byte[] Decode(in ReadOnlySequence<byte> body, bool compressed, out uint dictionaryId)
    {
        dictionaryId = 0;
        if (!compressed)
            return body.ToArray();
        var input = body.IsSingleSegment ? body.FirstSpan : body.ToArray();
        dictionaryId = ZstdFrame.GetDictionaryId(input);
        var output = new ArrayBufferWriter<byte>(Math.Max(256, input.Length * 4));
        Codec.Decompress(input, output);
        return output.WrittenSpan.ToArray();
    }

    public void Dispose()
    {
        Codec.Dispose();
        _registry.Dispose();
    }
}
