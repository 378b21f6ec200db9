using System.Buffers.Text;
using System.Security.Cryptography;
using AccessLayer.Protocol.Hpack;

namespace AccessLayer.Client.Internal;

/// <summary>
/// The <c>mlp-call-id</c> request header (docs/protocol.md §6.1): the same random value on every copy of one call (its hedge, its
/// copy on the secondary link, its resends), so a gateway that coalesces copies answers them all with one backend call.
/// </summary>
internal static class MlpCallId
{
    public const string HeaderName = "mlp-call-id";

    /// <summary>96 random bits, base64url: 16 characters, unique among a device's calls in any window a gateway keeps answers for.</summary>
    public static string New()
    {
        Span<byte> bits = stackalloc byte[12];
        RandomNumberGenerator.Fill(bits);
        return Base64Url.EncodeToString(bits);
    }

    public static bool IsOn(IReadOnlyList<HeaderField> headers)
    {
        foreach (var header in headers)
        {
            if (header.Name == HeaderName)
                return true;
        }

        return false;
    }
}
