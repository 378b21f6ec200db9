using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace AccessLayer.Gateway.Security;

/// <summary>
/// Salted PBKDF2-SHA256 password hashes in the text form <c>$pbkdf2-sha256$ITERATIONS$SALT$HASH</c>
/// (salt and hash in base64). <c>AccessLayer.Gateway hash-password</c> prints one.
/// </summary>
public static class PasswordHash
{
    public const string Scheme = "$pbkdf2-sha256$";
    public const int DefaultIterations = 100_000;
    private const int SaltLength = 16;
    private const int HashLength = 32;
    private const int MaxIterations = 10_000_000;

    public static string Create(string password, int iterations = DefaultIterations)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        Span<byte> salt = stackalloc byte[SaltLength];
        RandomNumberGenerator.Fill(salt);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashLength);
        return Scheme + iterations.ToString(CultureInfo.InvariantCulture) + "$" + Convert.ToBase64String(salt) + "$" + Convert.ToBase64String(hash);
    }

    /// <summary>Parses the text form; false when it is not one.</summary>
    public static bool TryParse(string text, out int iterations, out byte[] salt, out byte[] hash)
    {
        iterations = 0;
        salt = hash = [];
        if (text is null || !text.StartsWith(Scheme, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = text[Scheme.Length..].Split('$');
        if (parts.Length != 3 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out iterations) || iterations is < 1 or > MaxIterations)
        {
            return false;
        }

        try
        {
            salt = Convert.FromBase64String(parts[1]);
            hash = Convert.FromBase64String(parts[2]);
        }
        catch (FormatException)
        {
            return false;
        }

        return salt.Length > 0 && hash.Length > 0;
    }

    /// <summary>Checks <paramref name="password"/> (UTF-8 bytes) against a parsed hash in constant time.</summary>
    public static bool Verify(ReadOnlySpan<byte> password, int iterations, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> hash)
    {
        Span<byte> actual = stackalloc byte[hash.Length];
        Rfc2898DeriveBytes.Pbkdf2(password, salt, actual, iterations, HashAlgorithmName.SHA256);
        return CryptographicOperations.FixedTimeEquals(actual, hash);
    }
}
