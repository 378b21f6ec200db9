using System.Security.Cryptography;

namespace AccessLayer.Gateway.Security;

/// <summary>
/// The session-ticket keys of the epoll TLS listeners (<c>Tls:TicketKeysPath</c>): the first key encrypts new tickets,
/// every key decrypts, so a fleet that shares the file resumes each other's tickets and rotates by prepending a key
/// and reloading. Each key is 80 bytes (16 name, 32 HMAC-SHA256, 32 AES-256), one per line in base64
/// (<c>openssl rand 80 | base64 -w0</c>), <c>#</c> comments. Without a file, one random key per certificate load:
/// resumption then works on this node until the next reload or restart.
/// The keys sit in one pinned array: the OpenSSL ticket callback reads them in place.
/// </summary>
internal sealed class TlsTicketKeys
{
    public const int KeyLength = 80;
    public const int NameLength = 16;
    public const int MaxKeys = 16;

    private TlsTicketKeys(byte[] keys, bool configured)
    {
        Keys = keys;
        Configured = configured;
    }

    /// <summary>Count × 80 bytes, pinned; key 0 encrypts.</summary>
    public byte[] Keys { get; }

    public int Count => Keys.Length / KeyLength;

    /// <summary>Whether the keys came from <c>Tls:TicketKeysPath</c> (shared) rather than a random key of this process.</summary>
    public bool Configured { get; }

    public static TlsTicketKeys Random()
    {
        var keys = GC.AllocateArray<byte>(KeyLength, pinned: true);
        RandomNumberGenerator.Fill(keys);
        return new TlsTicketKeys(keys, configured: false);
    }

    /// <summary>Parses the key file; throws <see cref="InvalidOperationException"/> naming the line that is not a key.</summary>
    public static TlsTicketKeys Load(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"Tls:TicketKeysPath: cannot read '{path}': {ex.Message}", ex);
        }

        return Parse(lines, path);
    }

    internal static TlsTicketKeys Parse(IEnumerable<string> lines, string path)
    {
        var keys = new List<byte[]>();
        var number = 0;
        foreach (var raw in lines)
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var key = new byte[KeyLength];
            if (!Convert.TryFromBase64String(line, key, out var length) || length != KeyLength)
            {
                throw new InvalidOperationException($"Tls:TicketKeysPath: line {number} of '{path}' is not {KeyLength} bytes in base64 (make one with: openssl rand {KeyLength} | base64 -w0).");
            }

            keys.Add(key);
        }

        if (keys.Count == 0)
        {
            throw new InvalidOperationException($"Tls:TicketKeysPath: '{path}' holds no key.");
        }

        if (keys.Count > MaxKeys)
        {
            throw new InvalidOperationException($"Tls:TicketKeysPath: '{path}' holds {keys.Count} keys; at most {MaxKeys}.");
        }

        var all = GC.AllocateArray<byte>(keys.Count * KeyLength, pinned: true);
        for (var i = 0; i < keys.Count; i++)
        {
            keys[i].CopyTo(all, i * KeyLength);
        }

        return new TlsTicketKeys(all, configured: true);
    }

    /// <summary>The index of the key named <paramref name="name"/>, or -1.</summary>
    public int Find(ReadOnlySpan<byte> name)
    {
        for (var i = 0; i < Count; i++)
        {
            if (Keys.AsSpan(i * KeyLength, NameLength).SequenceEqual(name))
            {
                return i;
            }
        }

        return -1;
    }
}
