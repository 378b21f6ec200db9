using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Management;

/// <summary>
/// The accepted management bearer tokens (<c>Management:Token</c> and the lines of
/// <c>Management:TokenFile</c>), kept as SHA-256 digests: a presented token is hashed and
/// compared with every one in constant time, so neither its content nor its length shows in the timing.
/// </summary>
internal sealed class ManagementTokens
{
    private readonly byte[][] _digests;

    public ManagementTokens(IOptions<ManagementOptions> options)
    {
        var tokens = new List<string>();
        if (!string.IsNullOrEmpty(options.Value.Token))
        {
            tokens.Add(options.Value.Token);
        }

        if (!string.IsNullOrEmpty(options.Value.TokenFile))
        {
            tokens.AddRange(ReadFile(options.Value.TokenFile));
        }

        _digests = [.. tokens.Select(t => SHA256.HashData(Encoding.UTF8.GetBytes(t)))];
    }

    /// <summary>Whether any token is configured; with none, the protected routes are closed.</summary>
    public bool IsConfigured => _digests.Length > 0;

    public bool Accepts(ReadOnlySpan<char> presented)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        var bytes = Encoding.UTF8.GetBytes(presented.ToArray());
        SHA256.HashData(bytes, digest);
        var accepted = false;
        foreach (var known in _digests)
        {
            // No early exit: every configured token is compared.
            accepted |= CryptographicOperations.FixedTimeEquals(digest, known);
        }

        return accepted;
    }

    /// <summary>The tokens of a token file: one a line, blank lines and <c>#</c> comments skipped, surrounding spaces trimmed.</summary>
    public static IEnumerable<string> ReadFile(string path) =>
        File.ReadLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'));
}
