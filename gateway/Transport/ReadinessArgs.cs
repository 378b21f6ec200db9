using System.Net.Sockets;

namespace AccessLayer.Gateway.Transport;

/// <summary>The one zero-byte receive a connection keeps pending while idle: it holds no buffer, only readiness.</summary>
internal sealed class ReadinessArgs : SocketAsyncEventArgs
{
    private readonly LeanSocketReader _reader;

    public ReadinessArgs(LeanSocketReader reader)
        : base(unsafeSuppressExecutionContextFlow: true)
    {
        _reader = reader;
        SetBuffer(Memory<byte>.Empty);
    }

    protected override void OnCompleted(SocketAsyncEventArgs e) => _reader.OnReadable();
}
