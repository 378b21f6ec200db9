using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;

namespace AccessLayer.Gateway.Dashboard;

/// <summary>
/// The dashboard's static files, embedded in the gateway assembly (<c>gateway/Dashboard/www</c>, logical names
/// <c>dashboard/…</c>): read once, served from memory with a content hash as ETag. Only these names are served, so
/// no path from a request ever reaches the file system.
/// </summary>
internal sealed class DashboardAssets
{
    private const string Prefix = "dashboard/";

    private readonly FrozenDictionary<string, Asset> _assets;

    public DashboardAssets()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(Prefix, StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            assets[name[Prefix.Length..]] = new Asset(bytes, ContentType(name), "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..16] + "\"");
        }

        _assets = assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public IEnumerable<string> Names => _assets.Keys;

    public bool TryGet(string name, out Asset asset) => _assets.TryGetValue(name, out asset!);

    private static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        _ => "application/octet-stream",
    };

    internal sealed record Asset(byte[] Content, string ContentType, string ETag);
}
