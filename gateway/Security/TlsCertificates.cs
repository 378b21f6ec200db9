using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AccessLayer.Gateway.Security;

/// <summary>
/// The certificates of <see cref="TlsOptions"/>, loaded from PEM files: the server certificate
/// with its chain, and the CAs client certificates must chain to. Immutable: a reload loads a
/// new one (<see cref="TlsCertificateStore"/>).
/// </summary>
internal sealed class TlsCertificates
{
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    private readonly TlsOptions _options;
    private readonly X509Certificate2Collection? _clientCas;

    private TlsCertificates(TlsOptions options, X509Certificate2 server, X509Certificate2Collection chain, X509Certificate2Collection? clientCas, (X509Certificate2, X509Certificate2Collection)? alternate, TlsTicketKeys ticketKeys)
    {
        _options = options;
        ServerCertificate = server;
        ServerChain = chain;
        _clientCas = clientCas;
        Alternate = alternate;
        TicketKeys = ticketKeys;
        Context = SslStreamCertificateContext.Create(server, chain, offline: true);
    }

    public X509Certificate2 ServerCertificate { get; }

    public X509Certificate2Collection ServerChain { get; }

    /// <summary>The second certificate (<see cref="TlsOptions.AlternateCertificatePath"/>) with its intermediates, when set.</summary>
    public (X509Certificate2 Certificate, X509Certificate2Collection Chain)? Alternate { get; }

    /// <summary>The session-ticket keys of the epoll TLS listeners (configured, or one random key of this load).</summary>
    public TlsTicketKeys TicketKeys { get; }

    /// <summary>The options these were loaded with.</summary>
    public TlsOptions Options => _options;

    /// <summary>What a handshake presents: the certificate and the intermediates sent with it.</summary>
    public SslStreamCertificateContext Context { get; }

    /// <summary>Loads the files named by <paramref name="options"/>; throws <see cref="InvalidOperationException"/> naming the key when one is missing or unreadable.</summary>
    public static TlsCertificates Load(TlsOptions options)
    {
        var certificatePath = options.CertificatePath ?? throw new InvalidOperationException("Tls:CertificatePath is not set.");
        var (server, chain) = LoadPair(certificatePath, options.KeyPath, "Tls:CertificatePath/Tls:KeyPath");
        (X509Certificate2, X509Certificate2Collection)? alternate = string.IsNullOrWhiteSpace(options.AlternateCertificatePath)
            ? null
            : LoadPair(options.AlternateCertificatePath, options.AlternateKeyPath, "Tls:AlternateCertificatePath/Tls:AlternateKeyPath");
        var ticketKeys = string.IsNullOrWhiteSpace(options.TicketKeysPath) ? TlsTicketKeys.Random() : TlsTicketKeys.Load(options.TicketKeysPath);

        X509Certificate2Collection? clientCas = null;
        if (!string.IsNullOrWhiteSpace(options.ClientCaPath))
        {
            clientCas = [];
            try
            {
                clientCas.ImportFromPemFile(options.ClientCaPath);
            }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"Tls:ClientCaPath: cannot load '{options.ClientCaPath}': {ex.Message}", ex);
            }

            if (clientCas.Count == 0)
            {
                throw new InvalidOperationException($"Tls:ClientCaPath: '{options.ClientCaPath}' holds no certificate.");
            }
        }

        return new TlsCertificates(options, server, chain, clientCas, alternate, ticketKeys);
    }

    private static (X509Certificate2 Certificate, X509Certificate2Collection Chain) LoadPair(string certificatePath, string? keyPath, string settings)
    {
        X509Certificate2 server;
        try
        {
            server = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new InvalidOperationException($"{settings}: cannot load '{certificatePath}': {ex.Message}", ex);
        }

        if (!server.HasPrivateKey)
        {
            throw new InvalidOperationException($"{settings}: no private key for '{certificatePath}'.");
        }

        // Intermediates after the leaf are sent in the handshake.
        var all = new X509Certificate2Collection();
        all.ImportFromPemFile(certificatePath);
        var chain = new X509Certificate2Collection();
        foreach (var certificate in all)
        {
            if (certificate.Thumbprint != server.Thumbprint)
            {
                chain.Add(certificate);
            }
        }

        return (server, chain);
    }

    /// <summary>A client certificate is valid when it chains to a configured CA (or, without one, when the platform trusts it) and may be used for client authentication.</summary>
    public bool ValidateClientCertificate(X509Certificate2 certificate, X509Chain? platformChain, SslPolicyErrors errors)
    {
        if (_clientCas is null)
        {
            return errors == SslPolicyErrors.None;
        }

        var presented = new X509Certificate2Collection();
        if (platformChain is not null)
        {
            foreach (var element in platformChain.ChainElements)
            {
                presented.Add(element.Certificate);
            }
        }

        return ValidateClientCertificate(certificate, presented);
    }

    /// <summary>
    /// The same policy for a handshake that did not go through SslStream (the epoll TLS listeners): the certificate
    /// and what the client sent with it; chains to a configured CA, or without one to the system's trust store.
    /// </summary>
    public bool ValidateClientCertificate(X509Certificate2 certificate, X509Certificate2Collection presented)
    {
        using var chain = new X509Chain();
        if (_clientCas is not null)
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(_clientCas);
        }

        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuthentication);

        // Intermediates the client sent along with its certificate.
        foreach (var element in presented)
        {
            if (element.Thumbprint != certificate.Thumbprint)
            {
                chain.ChainPolicy.ExtraStore.Add(element);
            }
        }

        return chain.Build(certificate);
    }

    /// <summary>The identity a certificate gives its client under <paramref name="source"/>; null when it names none.</summary>
    public static string? IdentityOf(X509Certificate2 certificate, CertificateIdentitySource source) => source switch
    {
        CertificateIdentitySource.CommonName => certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false) is { Length: > 0 } cn ? cn : null,
        CertificateIdentitySource.Subject => certificate.Subject is { Length: > 0 } subject ? subject : null,
        _ => null,
    };
}
