using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace AccessLayer.Gateway.Transport;

/// <summary>
/// Presents an accepted WebSocket as a Kestrel <see cref="ConnectionContext"/>, so a protocol's
/// <see cref="ConnectionHandler"/> runs over WebSocket exactly as over TCP. The bytes move through a
/// <see cref="WebSocketPipe"/> (binary messages whose boundaries mean nothing: MQTT packets may span messages).
/// </summary>
internal sealed class WebSocketConnectionContext : ConnectionContext
{
    private readonly WebSocketPipe _pipe;
    private readonly CancellationTokenSource _closed = new();
    private readonly TimeProvider _time;

    public WebSocketConnectionContext(WebSocket socket, string connectionId, EndPoint? localEndPoint, EndPoint? remoteEndPoint, IFeatureCollection features, TimeProvider time)
    {
        _pipe = new WebSocketPipe(socket, WebSocketFraming.Stream);
        _time = time;
        ConnectionId = connectionId;
        LocalEndPoint = localEndPoint;
        RemoteEndPoint = remoteEndPoint;
        Features = features;
        Transport = _pipe;
    }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features { get; }

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed
    {
        get => _closed.Token;
        set => throw new NotSupportedException();
    }

    /// <summary>Runs the pumps and <paramref name="application"/>; completes when all of them are done (the close lingers, bounded).</summary>
    public async Task RunAsync(Func<ConnectionContext, Task> application)
    {
        var pumping = _pipe.RunAsync(_time, CancellationToken.None);
        try
        {
            await application(this).ConfigureAwait(false);
        }
        finally
        {
            // The application is done with the pipes: whatever it did not complete is completed here.
            await _pipe.Output.CompleteAsync().ConfigureAwait(false);
            await _pipe.Input.CompleteAsync().ConfigureAwait(false);
            await _pipe.FinishAsync(pumping, _time).ConfigureAwait(false);
            _closed.Cancel();
        }
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        // The token source is never disposed (no timer): a late Abort stays safe.
        _pipe.Abort();
        _closed.Cancel();
    }
}
