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

    /// <summary>
    /// Sets TCP loss-recovery options on the transport's socket, when it has one and the system has them (docs/sdk.md "TCP loss
    /// recovery"): a retransmission-timeout floor (zero: leave it) and linear timeouts for thin streams. Best effort; never throws.
    /// The default does nothing (transports without a TCP socket of their own); a wrapping transport passes it on.
    /// </summary>
    void TuneLossRecovery(TimeSpan rtoMin, bool thinLinearTimeouts)
    {
    }
}

/// <summary>
/// Opens transports: the client asks for "a connection to this endpoint" (several at once while it races
/// endpoints, docs/sdk.md "Connection establishment").
/// </summary>
public interface IMlpTransportFactory
{
    ValueTask<IMlpTransport> ConnectAsync(Uri endpoint, CancellationToken cancellationToken);
}

/// <summary>
/// A factory that can also connect to one resolved address of an endpoint's host name (TLS still names the
/// host): the client then races every address the name resolves to. Factories without it get the endpoint whole.
/// </summary>
public interface IMlpAddressTransportFactory : IMlpTransportFactory
{
    ValueTask<IMlpTransport> ConnectAsync(Uri endpoint, System.Net.IPAddress address, CancellationToken cancellationToken);
}
