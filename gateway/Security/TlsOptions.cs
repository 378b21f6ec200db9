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
