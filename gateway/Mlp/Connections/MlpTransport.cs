using System.IO.Pipelines;
using System.Net;
using AccessLayer.Gateway.Transport.Tls;

namespace AccessLayer.Gateway.Mlp.Connections;

/// <summary>The byte stream an MLP connection runs over: a Kestrel TCP connection or a WebSocket adapted to pipes.</summary>
internal sealed class MlpTransport(IDuplexPipe pipe, string connectionId, EndPoint? remoteEndPoint, string name, Action<string> abort, ITlsEarlyDataFeature? earlyData = null)
{
    public IDuplexPipe Pipe { get; } = pipe;

    public string ConnectionId { get; } = connectionId;

    public EndPoint? RemoteEndPoint { get; } = remoteEndPoint;

    /// <summary>"tcp" or "websocket", for logs and metrics.</summary>
    public string Name { get; } = name;

    /// <summary>The TLS listener's 0-RTT state when it accepts early data (<c>Tls:MaxEarlyData</c>), else null.</summary>
    public ITlsEarlyDataFeature? EarlyData { get; } = earlyData;

    /// <summary>Drops the connection at once, discarding anything unsent.</summary>
    public void Abort(string reason) => abort(reason);
}
