using System.Collections.Concurrent;

namespace AccessLayer.Gateway.Mlp.Routing;

/// <summary>
/// One backend's request URIs, <c>{base}/{escaped operation}</c>, made once per operation instead of once per call (a
/// <see cref="Uri"/>, its escaped string and its parsed parts are a few hundred bytes). Operation names come from clients,
/// so at most <see cref="Capacity"/> are kept; past that a URI is made per call, as before.
/// </summary>
internal sealed class MlpOperationUris
{
    public const int Capacity = 256;

    private readonly ConcurrentDictionary<string, Uri> _uris = new(StringComparer.Ordinal);

    public int Count => _uris.Count;

    public Uri Get(Uri baseUri, string operation)
    {
        if (_uris.TryGetValue(operation, out var uri))
            return uri;
        uri = Make(baseUri, operation);
        if (_uris.Count < Capacity)
            _uris.TryAdd(operation, uri);
        return uri;
    }

    /// <summary><paramref name="baseUri"/> (ending in <c>/</c>) and the operation, escaped as one path segment.</summary>
    public static Uri Make(Uri baseUri, string operation) => new(baseUri, Uri.EscapeDataString(operation));
}
