using System.Runtime.InteropServices;

namespace AccessLayer.Protocol.Compression;

/// <summary>Owns one native decompression context (ZSTD_DCtx); freed exactly once, even if a finalizer has to do it.</summary>
internal sealed class ZstdDecompressionContextHandle : SafeHandle
{
    public ZstdDecompressionContextHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    protected override bool ReleaseHandle()
    {
        ZstdNative.FreeDCtx(handle);
        return true;
    }
}
