using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// The signature a gateway puts on a call it forwards to another site's gateway: HMAC-SHA256 under the forward key
/// (<see cref="TrafficKeys"/>) over when it signed, the hop, the call and the caller's authenticated identity, and the
/// body. The receiving gateway takes the identity from the forward only when the signature holds and is recent.
/// </summary>
internal static class TrafficForwardSignature
{
    public static string Compute(byte[] key, in TrafficForward forward, ReadOnlySpan<byte> body)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Mac(key, forward, body, mac);
        return Base64Url.EncodeToString(mac);
    }

    /// <summary>The signature's 32 bytes, for a site link frame.</summary>
    public static void Compute(byte[] key, in TrafficForward forward, ReadOnlySpan<byte> body, Span<byte> destination) => Mac(key, forward, body, destination);

    /// <summary>Whether <paramref name="signature"/> (32 bytes, from a site link frame) holds, compared in constant time.</summary>
    public static bool Verify(byte[] key, in TrafficForward forward, ReadOnlySpan<byte> body, ReadOnlySpan<byte> signature)
    {
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Mac(key, forward, body, expected);
        return signature.Length == expected.Length && CryptographicOperations.FixedTimeEquals(signature, expected);
    }

    public static bool Verify(byte[] key, in TrafficForward forward, ReadOnlySpan<byte> body, string signature)
    {
        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes + 3];
        if (Base64Url.DecodeFromChars(signature, given, out _, out var length) != System.Buffers.OperationStatus.Done || length != HMACSHA256.HashSizeInBytes)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Mac(key, forward, body, expected);
        return CryptographicOperations.FixedTimeEquals(given[..length], expected);
    }

    [ThreadStatic]
    private static IncrementalHash? t_hmac;

    [ThreadStatic]
    private static byte[]? t_key;

    private static void Mac(byte[] key, in TrafficForward forward, ReadOnlySpan<byte> body, Span<byte> destination)
    {
        // One HMAC per thread and key, reset by each GetHashAndReset: a forward creates no native HMAC context.
        if (t_hmac is null || !ReferenceEquals(t_key, key))
        {
            t_hmac?.Dispose();
            t_hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
            t_key = key;
        }

        var hmac = t_hmac;
        Span<byte> number = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(number, forward.UnixSeconds);
        hmac.AppendData(number);
        // Each part length-prefixed, so no two forwards share an encoding.
        Span<byte> small = stackalloc byte[256];
        foreach (var part in (ReadOnlySpan<string>)[forward.Hop, forward.Service, forward.Operation, forward.DeviceId, forward.UserId, forward.SessionId, forward.Idempotent ? "1" : "0", forward.Platform ?? string.Empty, forward.AppVersion ?? string.Empty])
        {
            var length = Encoding.UTF8.GetByteCount(part);
            var bytes = length <= small.Length ? small[..length] : new byte[length];
            Encoding.UTF8.GetBytes(part, bytes);
            BinaryPrimitives.WriteInt64BigEndian(number, bytes.Length);
            hmac.AppendData(number);
            hmac.AppendData(bytes);
        }

        BinaryPrimitives.WriteInt64BigEndian(number, body.Length);
        hmac.AppendData(number);
        hmac.AppendData(body);
        hmac.GetHashAndReset(destination);
    }
}

/// <summary>What a forward's signature covers, apart from the body.</summary>
internal readonly record struct TrafficForward(long UnixSeconds, string Hop, string Service, string Operation, string DeviceId, string UserId, string SessionId, bool Idempotent, string? Platform, string? AppVersion);
