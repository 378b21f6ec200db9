using System.Runtime.InteropServices;

namespace AccessLayer.Protocol.Compression;

/// <summary>Owns one native prepared decompression dictionary (ZSTD_DDict); freed exactly once, even if a finalizer has to do it.</summary>
internal sealed class ZstdDecompressionDictionaryHandle : SafeHandle
{
    public ZstdDecompressionDictionaryHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    protected override bool ReleaseHandle()
    {
        ZstdNative.FreeDDict(handle);
        return true;
    }
}
