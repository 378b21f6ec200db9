using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using AccessLayer.Protocol.Mlp.Envelopes;
using Google.Protobuf;

namespace AccessLayer.Protocol.Mlp;

/// <summary>
/// Device tokens: <c>base64url(payload) "." base64url(HMAC-SHA256(key, base64url(payload)))</c>,
/// unpadded base64url, where payload is a serialized <see cref="DeviceTokenPayload"/>. The MAC
/// covers the ASCII text of the first part, exactly as sent.
/// </summary>
public static class MlpDeviceToken
{
    /// <summary>Tokens longer than this are refused unread.</summary>
    public const int MaxTokenLength = 1024;

    private const int MacLength = 32;

    public static string Create(DeviceTokenPayload payload, ReadOnlySpan<byte> key)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var encodedPayload = Base64Url.EncodeToString(payload.ToByteArray());
        Span<byte> mac = stackalloc byte[MacLength];
        HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(encodedPayload), mac);
        return encodedPayload + "." + Base64Url.EncodeToString(mac);
    }

    /// <summary>
    /// Decodes the payload without checking the signature: only to pick the key by
    /// <see cref="DeviceTokenPayload.KeyId"/> before <see cref="Verify"/>.
    /// </summary>
    public static bool TryDecodeUnverified(string token, [NotNullWhen(true)] out DeviceTokenPayload? payload)
    {
        payload = null;
        if (!TrySplit(token, out var encodedPayload, out _))
            return false;
        return TryParsePayload(encodedPayload, out payload);
    }

    /// <summary>Checks shape, signature (constant time) and expiry against <paramref name="now"/>.</summary>
    public static MlpTokenStatus Verify(string token, ReadOnlySpan<byte> key, DateTimeOffset now, [NotNullWhen(true)] out DeviceTokenPayload? payload)
    {
        payload = null;
        if (!TrySplit(token, out var encodedPayload, out var encodedMac))
            return MlpTokenStatus.Malformed;

        Span<byte> presented = stackalloc byte[MacLength + 3];
        if (!Base64Url.IsValid(encodedPayload) || !Base64Url.IsValid(encodedMac) || Base64Url.GetMaxDecodedLength(encodedMac.Length) > presented.Length)
            return MlpTokenStatus.Malformed;
        if (!Base64Url.TryDecodeFromChars(encodedMac, presented, out var macLength) || macLength != MacLength)
            return MlpTokenStatus.Malformed;

        Span<byte> expected = stackalloc byte[MacLength];
        Span<byte> signed = stackalloc byte[encodedPayload.Length];
        for (var i = 0; i < encodedPayload.Length; i++)
            signed[i] = (byte)encodedPayload[i];
        HMACSHA256.HashData(key, signed, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, presented[..MacLength]))
            return MlpTokenStatus.BadSignature;

        if (!TryParsePayload(encodedPayload, out var parsed))
            return MlpTokenStatus.Malformed;
        if (now.ToUnixTimeSeconds() >= parsed.ExpiresAtUnixS)
            return MlpTokenStatus.Expired;
        payload = parsed;
        return MlpTokenStatus.Valid;
    }

    private static bool TrySplit(string token, out ReadOnlySpan<char> encodedPayload, out ReadOnlySpan<char> encodedMac)
    {
        encodedPayload = default;
        encodedMac = default;
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength)
            return false;
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot == token.Length - 1 || token.IndexOf('.', dot + 1) >= 0)
            return false;
        encodedPayload = token.AsSpan(0, dot);
        encodedMac = token.AsSpan(dot + 1);
        return true;
    }

    private static bool TryParsePayload(ReadOnlySpan<char> encodedPayload, [NotNullWhen(true)] out DeviceTokenPayload? payload)
    {
        payload = null;
        if (!Base64Url.IsValid(encodedPayload))
            return false;
        var bytes = new byte[Base64Url.GetMaxDecodedLength(encodedPayload.Length)];
        if (!Base64Url.TryDecodeFromChars(encodedPayload, bytes, out var length))
            return false;
        try
        {
            payload = DeviceTokenPayload.Parser.ParseFrom(bytes, 0, length);
            return true;
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or IndexOutOfRangeException)
        {
            // As in MlpEnvelope.Parse: Google.Protobuf can throw IndexOutOfRangeException for cut input.
            return false;
        }
    }
}
