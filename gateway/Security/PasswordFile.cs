using System.Security.Cryptography;

namespace AccessLayer.Gateway.Security;

/// <summary>
/// Users from a password file: <c>name:$pbkdf2-sha256$...</c> a line, <c>#</c> comments. A
/// verified password is remembered as a fast SHA-256 digest, so a device that reconnects
/// often costs one PBKDF2 run, not one per CONNECT (the slow hash guards the file, not the wire).
/// </summary>
internal sealed class PasswordFile
{
    private readonly Dictionary<string, Entry> _users;

    private PasswordFile(Dictionary<string, Entry> users) => _users = users;

    public int Count => _users.Count;

    public bool Contains(string user) => _users.ContainsKey(user);

    public static PasswordFile Parse(IEnumerable<string> lines, string source = "password file")
    {
        var users = new Dictionary<string, Entry>(StringComparer.Ordinal);
        var number = 0;
        foreach (var raw in lines)
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            // The hash contains '$' but never ':', so the last ':' splits name from hash.
            var colon = line.LastIndexOf(':');
            if (colon <= 0 || !PasswordHash.TryParse(line[(colon + 1)..], out var iterations, out var salt, out var hash))
            {
                throw new InvalidOperationException($"Auth:PasswordFile: {source} line {number} is not 'name:{PasswordHash.Scheme}...'.");
            }

            users[line[..colon]] = new Entry(iterations, salt, hash);
        }

        return new PasswordFile(users);
    }

    public bool Verify(string user, ReadOnlySpan<byte> password)
    {
        if (!_users.TryGetValue(user, out var entry))
        {
            return false;
        }

        Span<byte> digest = stackalloc byte[32];
        Digest(entry.Salt, password, digest);
        if (Volatile.Read(ref entry.VerifiedDigest) is { } known && CryptographicOperations.FixedTimeEquals(known, digest))
        {
            return true;
        }

        if (!PasswordHash.Verify(password, entry.Iterations, entry.Salt, entry.Hash))
        {
            return false;
        }

        Volatile.Write(ref entry.VerifiedDigest, digest.ToArray());
        return true;
    }

    private static void Digest(ReadOnlySpan<byte> salt, ReadOnlySpan<byte> password, Span<byte> destination)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(salt);
        sha.AppendData(password);
        sha.GetHashAndReset(destination);
    }

    private sealed class Entry(int iterations, byte[] salt, byte[] hash)
    {
        public int Iterations { get; } = iterations;

        public byte[] Salt { get; } = salt;

        public byte[] Hash { get; } = hash;

        public byte[]? VerifiedDigest;
    }
}
