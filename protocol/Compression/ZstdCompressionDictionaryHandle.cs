using System.Runtime.InteropServices;

namespace AccessLayer.Protocol.Compression;

/// <summary>Owns one native prepared compression dictionary (ZSTD_CDict); freed exactly once, even if a finalizer has to do it.</summary>
internal sealed class ZstdCompressionDictionaryHandle : SafeHandle
{
    public ZstdCompressionDictionaryHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    protected override bool ReleaseHandle()
    {
        ZstdNative.FreeCDict(handle);
        return true;
    }
}
