namespace AccessLayer.Client.Dictionaries;

/// <summary>Where the client keeps zstd dictionaries across connections and app restarts (docs/protocol.md §9).</summary>
public interface IMlpDictionaryStore
{
    /// <summary>Ids held, newest (highest) first.</summary>
    IReadOnlyList<uint> Ids { get; }

    bool TryLoad(uint id, out byte[] content);

    void Save(uint id, byte[] content);
}

/// <summary>Keeps dictionaries for the life of the process.</summary>
public sealed class InMemoryMlpDictionaryStore : IMlpDictionaryStore
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<uint, byte[]> _content = new();

    public IReadOnlyList<uint> Ids => [.. _content.Keys.OrderDescending()];

    public bool TryLoad(uint id, out byte[] content) => _content.TryGetValue(id, out content!);

    public void Save(uint id, byte[] content) => _content[id] = content;
}

/// <summary>One <c>{id}.dict</c> file per dictionary in a folder.</summary>
public sealed class DirectoryMlpDictionaryStore(string folder) : IMlpDictionaryStore
{
    public IReadOnlyList<uint> Ids =>
        Directory.Exists(folder)
            ? [.. Directory.EnumerateFiles(folder, "*.dict")
                .Select(f => uint.TryParse(Path.GetFileNameWithoutExtension(f), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : 0)
                .Where(id => id != 0).OrderDescending()]
            : [];

    public bool TryLoad(uint id, out byte[] content)
    {
        var path = PathOf(id);
        content = File.Exists(path) ? File.ReadAllBytes(path) : [];
        return content.Length > 0;
    }

    public void Save(uint id, byte[] content)
    {
        Directory.CreateDirectory(folder);
        var temporary = PathOf(id) + ".tmp";
        File.WriteAllBytes(temporary, content);
        File.Move(temporary, PathOf(id), overwrite: true);
    }

    private string PathOf(uint id) => Path.Combine(folder, id.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".dict");
}
