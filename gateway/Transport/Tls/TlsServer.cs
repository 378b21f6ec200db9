using AccessLayer.Gateway.Security;
using AccessLayer.Gateway.Transport.Epoll;

namespace AccessLayer.Gateway.Transport.Tls;

/// <summary>
/// The OpenSSL side of the epoll TLS listeners: one <see cref="TlsServerContext"/> for the certificates
/// <see cref="TlsCertificateStore"/> holds now. A reload there (SecurityReloader) gives new connections a new context
/// on their accept; connections already established keep theirs (their SSL holds a reference to its SSL_CTX), so
/// nothing is dropped. Certificates OpenSSL refuses keep the previous context (logged once per load).
/// </summary>
internal sealed class TlsServer : IDisposable
{
    private readonly TlsCertificateStore _store;
    private readonly ILogger<TlsServer> _logger;
    private readonly Lock _swap = new();
    private volatile TlsServerContext? _current;
    private TlsCertificates? _refused;

    public TlsServer(TlsCertificateStore store, ILogger<TlsServer> logger)
    {
        _store = store;
        _logger = logger;
    }

    /// <summary>The context for a connection accepted now; builds one when the certificates changed.</summary>
    public TlsServerContext Current
    {
        get
        {
            var certificates = _store.Current ?? throw new InvalidOperationException("Tls:CertificatePath is not set.");
            var current = _current;
            if (current is not null && (ReferenceEquals(current.Certificates, certificates) || ReferenceEquals(_refused, certificates)))
            {
                return current;
            }

            lock (_swap)
            {
                current = _current;
                if (current is not null && (ReferenceEquals(current.Certificates, certificates) || ReferenceEquals(_refused, certificates)))
                {
                    return current;
                }

                TlsServerContext fresh;
                try
                {
                    fresh = TlsServerContext.Create(certificates, _logger);
                }
                catch (InvalidOperationException ex) when (current is not null)
                {
                    _refused = certificates;
                    EpollLog.TlsContextFailed(_logger, ex.Message);
                    return current;
                }

                _current = fresh;
                current?.Dispose();
                return fresh;
            }
        }
    }

    /// <summary>A server-side TLS session over an accepted fd; <paramref name="earlyData"/>: the listener takes 0-RTT (<c>Tls:MaxEarlyData</c>).</summary>
    public TlsSession Accept(int fd, TimeProvider time, bool earlyData = false)
    {
        while (true)
        {
            try
            {
                var context = Current;
                return TlsSession.Create(context, fd, time, earlyData ? context.Certificates.Options.MaxEarlyData : 0);
            }
            catch (ObjectDisposedException)
            {
                // The context was swapped out between reading it and referencing it: take the new one.
            }
        }
    }

    public void Dispose()
    {
        lock (_swap)
        {
            _current?.Dispose();
            _current = null;
        }
    }
}
