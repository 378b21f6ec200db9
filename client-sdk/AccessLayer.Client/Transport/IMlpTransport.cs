using System.IO.Pipelines;

namespace AccessLayer.Client.Transport;

/// <summary>An open byte stream to a gateway. Frames are written whole and flushed by the client; a transport may regroup them (WebSocket messages).</summary>
public interface IMlpTransport : IAsyncDisposable
{
    IDuplexPipe Pipe { get; }

    /// <summary>"tcp", "tls" or "websocket".</summary>
    string Name { get; }

    /// <summary>Drops the connection at once (no close handshake): a simulated network loss.</summary>
    void Abort();
}

/// <summary>
/// Opens transports. The seam for later strategies (racing several endpoints, per-network choices):
/// the client only ever asks for "a connection to this endpoint".
/// </summary>
public interface IMlpTransportFactory
{
    ValueTask<IMlpTransport> ConnectAsync(Uri endpoint, CancellationToken cancellationToken);
}
