using AccessLayer.Protocol.Compression;
using AccessLayer.Protocol.Mlp;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Mlp.Dictionaries;

/// <summary>
/// The zstd dictionaries this node accepts (docs/protocol.md §9): every <c>*.dict</c> file in
/// <c>Mlp:DictionaryPath</c>, named by the id in its header. The highest id is the current one,
/// recommended in WELCOME and offered to connected clients when a reload finds a newer one.
/// Dictionaries are only ever added: ids are never reused, and connections that were offered one
/// may keep using it. Also owns the codec that decompresses request bodies under
/// <c>Mlp:MaxBodySize</c> and compresses response bodies.
/// </summary>
internal sealed class MlpDictionaryStore : IDisposable
{
    private readonly ZstdDictionaryRegistry _registry = new();
    private readonly MlpOptions _options;
    private readonly ILogger<MlpDictionaryStore> _logger;
    private readonly Lock _reloadLock = new();
    private volatile uint[] _ids = [];
    private uint _currentId;

    public MlpDictionaryStore(IOptions<MlpOptions> options, ILogger<MlpDictionaryStore> logger)
    {
        _options = options.Value;
        _logger = logger;
        Codec = new ZstdCodec(_registry, new ZstdCodecOptions { MaxDecompressedSize = _options.MaxBodySize, CompressionLevel = _options.CompressionLevel, AllowUnknownContentSize = true });
        Reload();
    }

    /// <summary>Raised after a reload made a newer dictionary current.</summary>
    public event Action<ZstdDictionary>? CurrentChanged;

    public ZstdCodec Codec { get; }

    /// <summary>The recommended dictionary id; 0 when there is none.</summary>
    public uint CurrentId => Volatile.Read(ref _currentId);

    public ZstdDictionary? Current => TryGet(CurrentId, out var dictionary) ? dictionary : null;

    /// <summary>Every id accepted now, newest first.</summary>
    public IReadOnlyList<uint> AcceptedIds => _ids;

    public bool TryGet(uint id, out ZstdDictionary? dictionary)
    {
        dictionary = null;
        return id != 0 && _registry.TryGet(id, out dictionary);
    }

    /// <summary>Loads dictionary files not seen yet; returns the ids added.</summary>
    public IReadOnlyList<uint> Reload()
    {
        var added = new List<uint>();
        var path = _options.DictionaryPath;
        if (string.IsNullOrWhiteSpace(path) || !Directory.Exists(path))
            return added;

        ZstdDictionary? newCurrent = null;
        lock (_reloadLock)
        {
            foreach (var file in Directory.EnumerateFiles(path, "*.dict").Order(StringComparer.Ordinal))
            {
                var dictionary = Load(file);
                if (dictionary is null)
                    continue;
                if (!_registry.TryAdd(dictionary))
                {
                    dictionary.Dispose();
                    continue;
                }

                added.Add(dictionary.Id);
                MlpLog.DictionaryLoaded(_logger, dictionary.Id, dictionary.Content.Length, file);
            }

            if (added.Count > 0)
            {
                _ids = [.. _registry.Ids.OrderDescending()];
                if (_ids[0] != _currentId)
                {
                    Volatile.Write(ref _currentId, _ids[0]);
                    _registry.TryGet(_ids[0], out newCurrent);
                }
            }
        }

        if (newCurrent is not null)
            CurrentChanged?.Invoke(newCurrent);
        return added;
    }

    private ZstdDictionary? Load(string file)
    {
        try
        {
            var info = new FileInfo(file);
            if (info.Length > MlpLimits.MaxDictionarySize)
            {
                MlpLog.DictionarySkipped(_logger, file, $"larger than {MlpLimits.MaxDictionarySize} bytes");
                return null;
            }

            var bytes = File.ReadAllBytes(file);
            var id = ZstdDictionary.GetId(bytes);
            if (id < ZstdDictionaryTrainer.MinPrivateDictionaryId)
            {
                MlpLog.DictionarySkipped(_logger, file, $"dictionary id {id} is outside the private range 32768..2^31-1");
                return null;
            }

            if (_registry.Contains(id))
                return null;
            return ZstdDictionary.Create(bytes, _options.CompressionLevel);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ZstdException)
        {
            MlpLog.DictionarySkipped(_logger, file, ex.Message);
            return null;
        }
    }

    public void Dispose()
    {
        Codec.Dispose();
        _registry.Dispose();
    }
}
