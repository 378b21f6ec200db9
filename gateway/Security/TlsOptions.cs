using System.Security.Authentication;

namespace AccessLayer.Gateway.Security;

/// <summary>The <c>Tls</c> section: the server certificate and client-certificate policy shared by the MQTT TLS listener and secure WebSocket.</summary>
public sealed class TlsOptions
{
    public const string SectionName = "Tls";

    /// <summary>PEM file with the server certificate, optionally followed by its intermediates.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM file with the server certificate's private key (PKCS#8, PKCS#1 or SEC1); unset when the certificate file holds it.</summary>
    public string? KeyPath { get; set; }

    /// <summary>PEM file with the CA certificates client certificates must chain to; unset means the system trust store.</summary>
    public string? ClientCaPath { get; set; }

    public TlsClientCertificateMode ClientCertificateMode { get; set; } = TlsClientCertificateMode.None;

    /// <summary>The TLS versions offered.</summary>
    public SslProtocols Protocols { get; set; } = SslProtocols.Tls12 | SslProtocols.Tls13;

    /// <summary>What a valid client certificate says about who the client is.</summary>
    public CertificateIdentitySource CertificateIdentity { get; set; } = CertificateIdentitySource.CommonName;

    /// <summary>Whether that identity becomes the user name (ACL <c>%u</c>) or replaces the client id.</summary>
    public CertificateIdentityTarget CertificateIdentityAs { get; set; } = CertificateIdentityTarget.UserName;

    /// <summary>
    /// A second certificate (PEM, chain after the leaf) with another key type, typically RSA next to an ECDSA
    /// <see cref="CertificatePath"/>: the epoll TLS listeners serve both and OpenSSL picks per handshake by the
    /// client's signature algorithms. Unset: one certificate. Kestrel's listeners (secure WebSocket) serve the first only.
    /// </summary>
    public string? AlternateCertificatePath { get; set; }

    /// <summary>The private key of <see cref="AlternateCertificatePath"/>; unset when that file holds it.</summary>
    public string? AlternateKeyPath { get; set; }

    /// <summary>
    /// Session-ticket keys shared by every node of a fleet (<see cref="TlsTicketKeys"/>): newest first, one base64
    /// 80-byte key per line. Unset: a random key per process (resumption on this node only, lost on reload).
    /// </summary>
    public string? TicketKeysPath { get; set; }

    /// <summary>
    /// Let a resumed TLS 1.3 handshake skip the ECDHE exchange (psk_ke) when the client offers it. Off by default:
    /// such a resumed session has no forward secrecy (whoever gets the ticket key later can read it). Epoll listeners only.
    /// </summary>
    public bool ResumeWithoutKeyExchange { get; set; }

    /// <summary>
    /// Dynamic record size on the epoll TLS listeners: records of <c>1,360</c> plaintext bytes (one TCP segment) at
    /// the start of a burst and after 1 s idle, full 16 KB records once 64 KB went out in the burst. On by default.
    /// </summary>
    public bool DynamicRecordSize { get; set; } = true;

    /// <summary>
    /// TLS 1.3 0-RTT early data on the MLP TLS listener (<c>Mlp:TlsPort</c>, epoll engine): the most plaintext bytes a
    /// resuming client may send before the handshake completes, 0 (the default) for none; at most 65,536. Only MLP
    /// REQUESTs marked IDEMPOTENT are served from early data, any other waits for the handshake to complete. Turning it
    /// on makes that listener's tickets single-use and stateful (OpenSSL's anti-replay: a session cache in this process,
    /// <see cref="EarlyDataSessionCacheSize"/>), so they resume on the node that issued them only. MQTT never gets it.
    /// </summary>
    public int MaxEarlyData { get; set; }

    /// <summary>Sessions the early-data anti-replay cache holds (oldest evicted first; an evicted ticket gets a full handshake). Default 20,480.</summary>
    public int EarlyDataSessionCacheSize { get; set; } = 20_480;

    /// <summary>The largest <see cref="MaxEarlyData"/> accepted.</summary>
    public const int MaxEarlyDataLimit = 65_536;

    public bool IsConfigured => !string.IsNullOrWhiteSpace(CertificatePath);
}

public enum TlsClientCertificateMode
{
    /// <summary>No certificate is asked for.</summary>
    None,

    /// <summary>A certificate is asked for; one that is sent must be valid, none is fine.</summary>
    Allow,

    /// <summary>Every client must present a valid certificate (mutual TLS).</summary>
    Require,
}

public enum CertificateIdentitySource
{
    /// <summary>A certificate authenticates the connection but names nobody; CONNECT credentials still apply.</summary>
    None,

    /// <summary>The subject's common name (CN).</summary>
    CommonName,

    /// <summary>The whole subject distinguished name.</summary>
    Subject,
}

public enum CertificateIdentityTarget
{
    UserName,
    ClientId,
}
