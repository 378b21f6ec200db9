namespace AccessLayer.Gateway.Transport.Tls;

/// <summary>A TLS failure on one connection (a bad handshake, a corrupt record, an alert), with OpenSSL's reason; the connection is closed.</summary>
internal sealed class TlsException(string message) : IOException(message);
