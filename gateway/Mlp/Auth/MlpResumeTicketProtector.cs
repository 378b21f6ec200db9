using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using AccessLayer.Protocol.Mlp;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Mlp.Auth;

/// <summary>
/// Seals resume tickets with AES-256-GCM under a server key, so a ticket is opaque to the client,
/// cannot be forged or altered, and is checked locally with no call to an account service.
/// Layout: <c>version(1)=1 | nonce(12) | ciphertext | tag(16)</c>; the plaintext is
/// <c>expires_unix_ms(8, LE) | 3 × (varint length | UTF-8)</c> for device id, user id and session id.
/// The key comes from SHA-256("accesslayer-mlp-ticket" | Mlp:TicketSecret), or is random per process.
/// </summary>
internal sealed class MlpResumeTicketProtector
{
    private const byte Version = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int Overhead = 1 + NonceSize + TagSize;

    private readonly byte[] _key;
    private readonly TimeProvider _time;

    public MlpResumeTicketProtector(IOptions<MlpOptions> options, TimeProvider time)
    {
        _time = time;
        var secret = options.Value.TicketSecret;
        _key = string.IsNullOrEmpty(secret)
            ? RandomNumberGenerator.GetBytes(32)
            : SHA256.HashData(Encoding.UTF8.GetBytes("accesslayer-mlp-ticket\0" + secret));
    }

    /// <summary>Seals a ticket; null when the identifiers are too long for the 512-byte ticket limit.</summary>
    public byte[]? Protect(MlpResumeTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        var device = Encoding.UTF8.GetBytes(ticket.DeviceId);
        var user = Encoding.UTF8.GetBytes(ticket.UserId);
        var session = Encoding.UTF8.GetBytes(ticket.SessionId);
        var plainLength = 8 + Field(device) + Field(user) + Field(session);
        if (plainLength + Overhead > MlpLimits.MaxResumeTicketSize)
            return null;

        var plain = new byte[plainLength];
        BinaryPrimitives.WriteInt64LittleEndian(plain, ticket.ExpiresAt.ToUnixTimeMilliseconds());
        var offset = 8;
        foreach (var field in (ReadOnlySpan<byte[]>)[device, user, session])
        {
            offset += MlpVarint.Write(plain.AsSpan(offset), (ulong)field.Length);
            field.CopyTo(plain, offset);
            offset += field.Length;
        }

        var result = new byte[plainLength + Overhead];
        result[0] = Version;
        var nonce = result.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plain, result.AsSpan(1 + NonceSize, plainLength), result.AsSpan(1 + NonceSize + plainLength, TagSize), result.AsSpan(0, 1));
        return result;
    }

    /// <summary>Opens a ticket; false when it is malformed, forged, altered or expired.</summary>
    public bool TryUnprotect(ReadOnlySpan<byte> sealedTicket, [NotNullWhen(true)] out MlpResumeTicket? ticket)
    {
        ticket = null;
        if (sealedTicket.Length <= Overhead + 8 || sealedTicket.Length > MlpLimits.MaxResumeTicketSize || sealedTicket[0] != Version)
            return false;

        var plainLength = sealedTicket.Length - Overhead;
        Span<byte> plain = stackalloc byte[plainLength];
        try
        {
            using var aes = new AesGcm(_key, TagSize);
            aes.Decrypt(sealedTicket.Slice(1, NonceSize), sealedTicket.Slice(1 + NonceSize, plainLength), sealedTicket.Slice(1 + NonceSize + plainLength, TagSize), plain, sealedTicket[..1]);
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }

        var expires = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(plain));
        if (_time.GetUtcNow() >= expires)
            return false;

        var rest = plain[8..];
        if (!TryReadField(ref rest, out var device) || !TryReadField(ref rest, out var user) || !TryReadField(ref rest, out var session) || !rest.IsEmpty)
            return false;
        ticket = new MlpResumeTicket(device, user, session, expires);
        return true;
    }

    private static int Field(byte[] value) => MlpVarint.GetByteCount((ulong)value.Length) + value.Length;

    private static bool TryReadField(ref Span<byte> source, [NotNullWhen(true)] out string? value)
    {
        value = null;
        try
        {
            if (!MlpVarint.TryParse(source, MlpVarint.MaxLength32, out var length, out var consumed) || length > (ulong)(source.Length - consumed))
                return false;
            value = Encoding.UTF8.GetString(source.Slice(consumed, (int)length));
            source = source[(consumed + (int)length)..];
            return true;
        }
        catch (MlpProtocolException)
        {
            return false;
        }
    }
}
