using System.Security.Cryptography;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Security;

/// <summary>
/// The certificates every TLS listener uses, read per handshake so <see cref="Reload"/> takes
/// effect on the next handshake while established connections keep the session they negotiated.
/// Builds the Kestrel TLS options for every TLS listener (MQTT and HTTPS alike).
/// </summary>
internal sealed class TlsCertificateStore
{
    private readonly TlsOptions _options;
    private readonly Lock _reloading = new();
    private volatile TlsCertificates? _current;
    private byte[]? _digest;

    public TlsCertificateStore(IOptions<TlsOptions> options)
    {
        _options = options.Value;
        if (_options.IsConfigured)
        {
            _digest = Digest(_options);
            _current = TlsCertificates.Load(_options);
        }
    }

    /// <summary>The certificates in force; null when TLS is not configured.</summary>
    public TlsCertificates? Current => _current;

    /// <summary>The files a reload reads: certificates, keys, client CAs and ticket keys, those that are set.</summary>
    public IEnumerable<string> Files => _options.IsConfigured
        ? FilesOf(_options).OfType<string>().Where(p => p.Trim().Length > 0)
        : [];

    /// <summary>
    /// Loads the files again. True when their content changed and new handshakes use them; throws
    /// <see cref="InvalidOperationException"/> (a missing file, a key that does not fit the
    /// certificate...) keeping the certificates in force.
    /// </summary>
    public bool Reload()
    {
        if (!_options.IsConfigured)
        {
            return false;
        }

        lock (_reloading)
        {
            var digest = Digest(_options);
            if (_digest is not null && _digest.AsSpan().SequenceEqual(digest))
            {
                return false;
            }

            _current = TlsCertificates.Load(_options);
            _digest = digest;
            return true;
        }
    }

    /// <summary>Kestrel TLS settings for one listener. <paramref name="alpn"/> false for MQTT, whose clients may offer protocols we do not name.</summary>
    public HttpsConnectionAdapterOptions CreateAdapterOptions(TimeSpan handshakeTimeout, bool alpn)
    {
        var initial = _current ?? throw new InvalidOperationException("Tls:CertificatePath is not set.");
        var adapter = new HttpsConnectionAdapterOptions
        {
            // Kestrel wants a certificate up front; each handshake then takes the current one (OnAuthenticate).
            ServerCertificate = initial.ServerCertificate,
            ServerCertificateChain = initial.ServerChain,
            SslProtocols = _options.Protocols,
            HandshakeTimeout = handshakeTimeout,
            CheckCertificateRevocation = false,
            ClientCertificateMode = _options.ClientCertificateMode switch
            {
                TlsClientCertificateMode.Allow => ClientCertificateMode.AllowCertificate,
                TlsClientCertificateMode.Require => ClientCertificateMode.RequireCertificate,
                _ => ClientCertificateMode.NoCertificate,
            },
            OnAuthenticate = (_, ssl) =>
            {
                ssl.ServerCertificate = null;
                ssl.ServerCertificateSelectionCallback = null;
                ssl.ServerCertificateContext = _current!.Context;
                if (!alpn)
                {
                    ssl.ApplicationProtocols = null;
                }
            },
        };
        if (_options.ClientCertificateMode != TlsClientCertificateMode.None)
        {
            adapter.ClientCertificateValidation = (certificate, chain, errors) => _current!.ValidateClientCertificate(certificate, chain, errors);
        }

        return adapter;
    }

    private static string?[] FilesOf(TlsOptions options) =>
        [options.CertificatePath, options.KeyPath, options.ClientCaPath, options.AlternateCertificatePath, options.AlternateKeyPath, options.TicketKeysPath];

    private static byte[] Digest(TlsOptions options)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var path in FilesOf(options))
        {
            if (string.IsNullOrWhiteSpace(path))
            {
                continue;
            }

            try
            {
                sha.AppendData(File.ReadAllBytes(path));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"Tls: cannot read '{path}': {ex.Message}", ex);
            }

            // A separator, so moving bytes from one file to the next still changes the digest.
            sha.AppendData([0]);
        }

        return sha.GetHashAndReset();
    }
}
