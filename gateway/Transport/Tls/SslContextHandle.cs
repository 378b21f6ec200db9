using System.Runtime.InteropServices;

namespace AccessLayer.Gateway.Transport.Tls;

/// <summary>
/// Owns one SSL_CTX and the GC handle its callbacks find the <see cref="TlsServerContext"/> through. Every
/// <see cref="TlsSession"/> holds a reference (DangerousAddRef) for as long as its SSL lives, so a context retired by a
/// certificate reload is freed (SSL_CTX_free, handle freed) only when its last connection is gone: a callback never
/// reaches a freed handle.
/// </summary>
internal sealed class SslContextHandle : SafeHandle
{
    private GCHandle _owner;

    public SslContextHandle(nint ctx, GCHandle owner)
        : base(nint.Zero, ownsHandle: true)
    {
        SetHandle(ctx);
        _owner = owner;
    }

    public override bool IsInvalid => handle == nint.Zero;

    protected override bool ReleaseHandle()
    {
        LibSsl.SSL_CTX_free(handle);
        if (_owner.IsAllocated)
        {
            _owner.Free();
        }

        return true;
    }
}
