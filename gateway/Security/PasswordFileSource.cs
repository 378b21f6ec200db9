using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Security;

/// <summary>
/// The password file of <c>Auth:PasswordFile</c>, read at start and again by <see cref="Reload"/>.
/// A file that does not parse leaves the users that were loaded before in place.
/// </summary>
internal sealed class PasswordFileSource
{
    private readonly Lock _reloading = new();
    private volatile PasswordFile? _current;
    private byte[]? _digest;

    public PasswordFileSource(IOptions<AuthOptions> options)
    {
        Path = string.IsNullOrWhiteSpace(options.Value.PasswordFile) ? null : options.Value.PasswordFile;
        if (Path is not null)
        {
            (_current, _digest) = Load(Path);
        }
    }

    /// <summary>The configured file; null when there is none.</summary>
    public string? Path { get; }

    /// <summary>The users in force; null when no file is configured.</summary>
    public PasswordFile? Current => _current;

    /// <summary>
    /// Reads the file again. True when its content changed and the new users are in force; throws
    /// <see cref="InvalidOperationException"/> naming the bad line, keeping the old users.
    /// </summary>
    public bool Reload()
    {
        if (Path is null)
        {
            return false;
        }

        lock (_reloading)
        {
            var (file, digest) = Load(Path);
            if (_digest is not null && _digest.AsSpan().SequenceEqual(digest))
            {
                return false;
            }

            _digest = digest;
            _current = file;
            return true;
        }
    }

    private static (PasswordFile File, byte[] Digest) Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"Auth:PasswordFile: cannot read '{path}': {ex.Message}", ex);
        }

        var lines = System.Text.Encoding.UTF8.GetString(bytes).TrimStart('\uFEFF').Split('\n');
        return (PasswordFile.Parse(lines, path), SHA256.HashData(bytes));
    }
}
