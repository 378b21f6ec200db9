using System.IO.Hashing;
using System.Text;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// A uid's shard: XxHash32 of its UTF-8 bytes modulo <see cref="Count"/>, the same on every node and in every version
/// of the gateway (a uid never changes zone unless the table says so). Allocates nothing for uids up to 256 bytes.
/// </summary>
internal static class UidShards
{
    public const int Count = 100;

    /// <summary>The uid's bucket (0–99); another <paramref name="seed"/> gives an independent bucket of the same uid.</summary>
    public static int Of(string uid, uint seed = 0)
    {
        ArgumentNullException.ThrowIfNull(uid);
        var length = Encoding.UTF8.GetMaxByteCount(uid.Length);
        Span<byte> bytes = length <= 256 ? stackalloc byte[256] : new byte[length];
        var written = Encoding.UTF8.GetBytes(uid, bytes);
        return (int)(XxHash32.HashToUInt32(bytes[..written], unchecked((int)seed)) % Count);
    }
}
