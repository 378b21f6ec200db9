using System.Runtime.InteropServices;

namespace AccessLayer.Protocol.Compression;

/// <summary>Owns one native compression context (ZSTD_CCtx); freed exactly once, even if a finalizer has to do it.</summary>
internal sealed class ZstdCompressionContextHandle : SafeHandle
{
    public ZstdCompressionContextHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    protected override bool ReleaseHandle()
    {
        ZstdNative.FreeCCtx(handle);
        return true;
    }
}
