using System.Buffers;
using System.Collections.Concurrent;
using AccessLayer.Client.Dictionaries;
using AccessLayer.Protocol.Compression;
using AccessLayer.Protocol.Mlp;
using ZstdSharp;

namespace AccessLayer.Client.Internal;

/// <summary>
/// The client's side of docs/protocol.md §8-9: its dictionaries (from the store, and DICT data), body
/// compression and decompression, in managed zstd (<see cref="ManagedZstd"/>: no native library on the device).
/// </summary>
internal sealed class MlpClientBodies : IDisposable
{
    private readonly ConcurrentDictionary<uint, Entry> _dictionaries = new();
    private readonly Entry _plain = new(null);
    private readonly IMlpDictionaryStore _store;
    private readonly int _maxBodySize;
    private readonly int _minCompressSize;

    public MlpClientBodies(IMlpDictionaryStore store, int maxBodySize, int minCompressSize)
    {
        _store = store;
        _maxBodySize = maxBodySize;
        _minCompressSize = minCompressSize;
        foreach (var id in store.Ids)
        {
            if (store.TryLoad(id, out var content))
                TryRegister(id, content);
        }
    }

    /// <summary>Ids held, newest first, at most the 16 a HELLO may list.</summary>
    public IReadOnlyList<uint> HeldIds => [.. _dictionaries.Keys.OrderDescending().Take(MlpLimits.MaxAnnouncedDictionaries)];

    public bool Holds(uint id) => _dictionaries.ContainsKey(id);

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
        if (id == 0 || content.Length == 0 || content.Length > MlpLimits.MaxDictionarySize || ManagedZstd.DictionaryId(content) != id)
            return false;
        if (_dictionaries.ContainsKey(id))
            return true;
        Entry entry;
        try
        {
            entry = new Entry(content.ToArray());
        }
        catch (ZstdSharp.ZstdException)
        {
            return false;
        }

        if (!_dictionaries.TryAdd(id, entry))
            entry.Dispose();
        return true;
    }

    /// <summary>
    /// Compresses a request body with the first of <paramref name="preferred"/> the client holds (else plain
    /// zstd); the plain body when compression does not help.
    /// </summary>
    public (ReadOnlyMemory<byte> Body, bool Compressed, uint DictionaryId) Compress(ReadOnlyMemory<byte> body, IEnumerable<uint> preferred)
    {
        if (body.Length < _minCompressSize)
            return (body, false, 0);
        var entry = _plain;
        var dictionaryId = 0u;
        foreach (var id in preferred)
        {
            if (id != 0 && _dictionaries.TryGetValue(id, out var held))
            {
                (entry, dictionaryId) = (held, id);
                break;
            }
        }

        var rented = ArrayPool<byte>.Shared.Rent(ZstdSharp.Compressor.GetCompressBound(body.Length));
        try
        {
            var written = entry.Compress(body.Span, rented);
            return written < body.Length ? (rented.AsSpan(0, written).ToArray(), true, dictionaryId) : (body, false, 0);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The body as the app sees it; throws <see cref="AccessLayer.Protocol.Compression.ZstdException"/> for an undecodable one.</summary>
    public byte[] Decode(in ReadOnlySequence<byte> body, bool compressed, out uint dictionaryId)
    {
        dictionaryId = 0;
        if (!compressed)
            return body.ToArray();
        var input = body.IsSingleSegment ? body.FirstSpan : body.ToArray();
        dictionaryId = ManagedZstd.FrameDictionaryId(input);
        var size = ManagedZstd.CheckFrame(input, _maxBodySize, dictionaryId);
        var entry = _plain;
        if (dictionaryId != 0 && !_dictionaries.TryGetValue(dictionaryId, out entry))
            throw new AccessLayer.Protocol.Compression.ZstdException(ZstdErrorKind.UnknownDictionary, $"The frame names zstd dictionary {dictionaryId}, which is not held.", dictionaryId);
        return entry.Decode(input, size, dictionaryId);
    }

    public void Dispose()
    {
        foreach (var entry in _dictionaries.Values)
            entry.Dispose();
        _plain.Dispose();
    }

    /// <summary>One dictionary (or none) digested for both directions; ZstdSharp's contexts are not thread-safe, so each direction is locked.</summary>
    private sealed class Entry : IDisposable
    {
        private readonly Lock _compressLock = new();
        private readonly Lock _decompressLock = new();
        private readonly Compressor _compressor = new(ManagedZstd.CompressionLevel);
        private readonly Decompressor _decompressor = new();

        public Entry(byte[]? content)
        {
            if (content is null)
                return;
            _compressor.LoadDictionary(content);
            _decompressor.LoadDictionary(content);
        }

        public int Compress(ReadOnlySpan<byte> source, Span<byte> destination)
        {
            lock (_compressLock)
                return _compressor.Wrap(source, destination);
        }

        public byte[] Decode(ReadOnlySpan<byte> frame, int size, uint dictionaryId)
        {
            lock (_decompressLock)
                return ManagedZstd.Decode(_decompressor, frame, size, dictionaryId);
        }

        public void Dispose()
        {
            _compressor.Dispose();
            _decompressor.Dispose();
        }
    }
}
