namespace AccessLayer.Gateway.Transport.Tls;

/// <summary>
/// A TLS connection that may carry TLS 1.3 0-RTT early data (<c>Tls:MaxEarlyData</c> on the MLP TLS listener). While
/// <see cref="InEarlyData"/> is true the handshake has not completed: every byte read so far came in early data, which an
/// attacker who recorded it could replay, so only replay-safe work may be done with it. Once the client's Finished
/// has been read (<see cref="HandshakeCompleted"/>) the early bytes are known to come from a live client on this
/// connection. Connections without early data never expose this feature.
/// </summary>
internal interface ITlsEarlyDataFeature
{
    /// <summary>True until the handshake has completed on a connection that read early data or may still.</summary>
    bool InEarlyData { get; }

    /// <summary>Plaintext bytes read as early data, the first bytes of the stream: a frame that ends within them arrived in early data.</summary>
    long EarlyDataBytes { get; }

    /// <summary>Completes when the handshake has (the client's Finished was read); cancelled if the connection fails first.</summary>
    Task HandshakeCompleted { get; }
}
