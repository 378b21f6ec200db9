using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace AccessLayer.Protocol.Compression;

/// <summary>
/// The dictionaries one side can decompress with, by the id a zstd frame header names.
/// Lookups are lock-free and allocation-free; the registry owns what it holds and disposes
/// it on <see cref="Dispose"/>. A dictionary taken out with <see cref="TryRemove"/> belongs
/// to the caller again.
/// </summary>
public sealed class ZstdDictionaryRegistry : IDisposable
{
    private readonly ConcurrentDictionary<uint, ZstdDictionary> _byId = new();

    public int Count => _byId.Count;

    /// <summary>A snapshot of the ids held, e.g. for the dictionary list a HELLO announces.</summary>
    public IReadOnlyList<uint> Ids => [.. _byId.Keys];

    /// <summary>Adds <paramref name="dictionary"/>; false when a dictionary with that id is already held.</summary>
    public bool TryAdd(ZstdDictionary dictionary)
    {
        ArgumentNullException.ThrowIfNull(dictionary);
        return _byId.TryAdd(dictionary.Id, dictionary);
    }

    public bool TryGet(uint id, [MaybeNullWhen(false)] out ZstdDictionary dictionary) => _byId.TryGetValue(id, out dictionary);

    /// <summary>The dictionary with <paramref name="id"/>, or <see cref="ZstdException"/> (UnknownDictionary).</summary>
    public ZstdDictionary Get(uint id)
    {
        if (_byId.TryGetValue(id, out var dictionary))
            return dictionary;
        throw new ZstdException(ZstdErrorKind.UnknownDictionary, $"No zstd dictionary with id {id} is registered.", id);
    }

    public bool Contains(uint id) => _byId.ContainsKey(id);

    public bool TryRemove(uint id, [MaybeNullWhen(false)] out ZstdDictionary dictionary) => _byId.TryRemove(id, out dictionary);

    public void Dispose()
    {
        foreach (var id in _byId.Keys)
        {
            if (_byId.TryRemove(id, out var dictionary))
                dictionary.Dispose();
        }
    }
}
