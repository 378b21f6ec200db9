using System.Runtime.InteropServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace AccessLayer.Gateway.Transport.Tls;

/// <summary>
/// One server-side SSL object over a connection's non-blocking fd (SSL_set_fd: OpenSSL reads and writes the socket
/// itself, no copy through memory BIOs). The epoll connection calls <see cref="Read"/> and <see cref="Write"/> where it
/// would call recv and send, with the fd referenced; WANT_READ/WANT_WRITE come back as EAGAIN and the connection waits for
/// the engine's readiness (either edge wakes both sides: a write can wait on a read and the other way round). The
/// handshake runs inside the first reads (accept state). The reader and the writer run on different threads: every call
/// into the SSL object holds this object's lock, so one SSL is never used by two threads at once. After a fatal error
/// nothing but SSL_free touches it. Also the connection's TLS features (peer certificate, protocol).
/// </summary>
internal sealed unsafe partial class TlsSession : ITlsConnectionFeature, ITlsHandshakeFeature, ITlsEarlyDataFeature
{
    /// <summary>Plaintext bytes per record at the start of a burst: a record fits one TCP segment (1,460 MSS, 22 B of TLS 1.3 overhead, some TCP options).</summary>
    public const int SmallRecord = 1360;

    /// <summary>Full-size records (the TLS maximum).</summary>
    public const int LargeRecord = 16384;

    /// <summary>Bytes sent in a burst after which records go full size.</summary>
    public const int HotBurstBytes = 64 * 1024;

    /// <summary>errno <see cref="Read"/> and <see cref="Write"/> report a TLS failure with (EPROTO); <see cref="Failure"/> says why.</summary>
    public const int TlsFailed = 71;

    private readonly SslContextHandle _context;
    private readonly long _idleTicks;
    private nint _ssl;
    private bool _broken;
    private bool _shutdownSent;
    private readonly bool _dynamic;
    private bool _hot;
    private int _burstBytes;
    private int _refusedLength;
    private long _lastWrite;
    private X509Certificate2? _peerCertificate;
    // 0-RTT (only when made with early data): where the handshake is, and who waits for its end.
    private volatile EarlyData _early;
    private bool _earlyStarted;
    private long _earlyBytes;
    private TaskCompletionSource? _handshake;

    private TlsSession(SslContextHandle context, nint ssl, bool dynamicRecords, long idleTicks, bool earlyData)
    {
        _context = context;
        _ssl = ssl;
        _dynamic = dynamicRecords;
        _idleTicks = idleTicks;
        _early = earlyData ? EarlyData.Reading : EarlyData.None;
        AcceptsEarlyData = earlyData;
    }

    /// <summary>Why the session failed (OpenSSL's reason), once it has.</summary>
    public TlsException? Failure { get; private set; }

    /// <summary>An SSL in accept state over <paramref name="fd"/> (not owning it); throws <see cref="TlsException"/> when OpenSSL cannot make one.</summary>
    /// <param name="maxEarlyData">0-RTT early data accepted (bytes), 0 for none: tickets issued on this connection then allow the same.</param>
    public static TlsSession Create(TlsServerContext server, int fd, TimeProvider time, int maxEarlyData = 0)
    {
        var handle = server.Handle;
        var added = false;
        handle.DangerousAddRef(ref added);
        LibSsl.ERR_clear_error();
        var ssl = LibSsl.SSL_new(handle.DangerousGetHandle());
        if (ssl == 0 || LibSsl.SSL_set_fd(ssl, fd) != 1)
        {
            var reason = LibSsl.LastError(ssl == 0 ? "SSL_new" : "SSL_set_fd");
            if (ssl != 0)
            {
                LibSsl.SSL_free(ssl);
            }

            handle.DangerousRelease();
            throw new TlsException(reason);
        }

        LibSsl.SSL_set_accept_state(ssl);
        // 0-RTT: what the tickets issued here allow, and what this handshake accepts; the context's session cache holds them (anti-replay).
        if (maxEarlyData > 0 && (LibSsl.SSL_set_max_early_data(ssl, (uint)maxEarlyData) != 1 || LibSsl.SSL_set_recv_max_early_data(ssl, (uint)maxEarlyData) != 1))
        {
            var reason = LibSsl.LastError("SSL_set_max_early_data");
            LibSsl.SSL_free(ssl);
            handle.DangerousRelease();
            throw new TlsException(reason);
        }

        var dynamic = server.Certificates.Options.DynamicRecordSize;
        if (dynamic)
        {
            LibSsl.SSL_ctrl(ssl, LibSsl.CtrlSetMaxSendFragment, SmallRecord, 0);
        }

        return new TlsSession(handle, ssl, dynamic, time.TimestampFrequency, maxEarlyData > 0);
    }

    /// <summary>SSL_read. Bytes, 0 at the end of the stream, or -1 with <paramref name="errno"/> (EAGAIN: wait for readiness; <see cref="TlsFailed"/>: see <see cref="Failure"/>).</summary>
    public nint Read(Span<byte> buffer, out int errno)
    {
        lock (this)
        {
            if (_ssl == 0 || _broken)
            {
                errno = TlsFailed;
                return -1;
            }

            LibSsl.ERR_clear_error();
            if (_early == EarlyData.Reading && ReadEarly(buffer, out var early, out errno))
            {
                return early;
            }

            int result;
            fixed (byte* p = buffer)
            {
                result = LibSsl.SSL_read(_ssl, p, buffer.Length);
            }

            var outcome = Outcome(result, "SSL_read", out errno);
            CheckHandshake();
            return outcome;
        }
    }

    /// <summary>
    /// SSL_write: the count of bytes written (all of <paramref name="buffer"/>, or up to where the burst turns hot), or
    /// the results of <see cref="Read"/>. After EAGAIN the caller retries with the same bytes from the same position,
    /// as OpenSSL requires; the retry is given the same length.
    /// </summary>
    public nint Write(ReadOnlySpan<byte> buffer, long now, out int errno)
    {
        lock (this)
        {
            if (_ssl == 0 || _broken)
            {
                errno = TlsFailed;
                return -1;
            }

            int length;
            if (_refusedLength > 0)
            {
                // The retry of a write OpenSSL refused: record sizes and length must not change under it.
                length = Math.Min(buffer.Length, _refusedLength);
            }
            else
            {
                length = buffer.Length;
                if (_dynamic)
                {
                    if (now - _lastWrite > _idleTicks)
                    {
                        // Idle since the last burst: the congestion window may have shrunk; small records again.
                        _burstBytes = 0;
                        if (_hot)
                        {
                            _hot = false;
                            LibSsl.SSL_ctrl(_ssl, LibSsl.CtrlSetMaxSendFragment, SmallRecord, 0);
                        }
                    }

                    _lastWrite = now;
                    if (!_hot)
                    {
                        // Stop where the burst turns hot, so the rest goes out in full-size records.
                        length = Math.Min(length, HotBurstBytes - _burstBytes);
                    }
                }
            }

            if (_early == EarlyData.Reading)
            {
                if (!_earlyStarted)
                {
                    // A write before the first read (a refusal): no early data on this connection, SSL_write runs the handshake.
                    _early = EarlyData.AwaitingFinished;
                }
                else if (_earlyBytes == 0)
                {
                    // The handshake has not reached early data yet (no keys to write 0.5-RTT data under): wait for the reader.
                    errno = Epoll.LinuxNative.EAGAIN;
                    return -1;
                }
            }

            LibSsl.ERR_clear_error();
            int result;
            fixed (byte* p = buffer)
            {
                if (_early == EarlyData.Reading)
                {
                    // 0.5-RTT data: an answer to early data, sent before the client's Finished.
                    nuint written = 0;
                    result = LibSsl.SSL_write_early_data(_ssl, p, (nuint)length, &written) == 1 ? (int)written : -1;
                }
                else
                {
                    result = LibSsl.SSL_write(_ssl, p, length);
                }
            }

            if (result <= 0)
            {
                var outcome = Outcome(result, "SSL_write", out errno);
                _refusedLength = errno == Epoll.LinuxNative.EAGAIN ? length : 0;
                CheckHandshake();
                return outcome;
            }

            CheckHandshake();

            _refusedLength = 0;
            if (_dynamic && !_hot && (_burstBytes += result) >= HotBurstBytes)
            {
                _hot = true;
                // Setting the maximum lower also lowered the split size (the record size OpenSSL writes): raise both.
                LibSsl.SSL_ctrl(_ssl, LibSsl.CtrlSetMaxSendFragment, LargeRecord, 0);
                LibSsl.SSL_ctrl(_ssl, LibSsl.CtrlSetSplitSendFragment, LargeRecord, 0);
            }

            errno = 0;
            return result;
        }
    }

    /// <summary>Sends close_notify (once, best effort) before the connection's FIN.</summary>
    public void Shutdown()
    {
        lock (this)
        {
            if (_ssl == 0 || _broken || _shutdownSent || LibSsl.SSL_is_init_finished(_ssl) != 1)
            {
                return;
            }

            // Reads go on (the lingering close reads the peer's close_notify and FIN).
            _shutdownSent = true;
            LibSsl.ERR_clear_error();
            LibSsl.SSL_shutdown(_ssl);
            LibSsl.ERR_clear_error();
        }
    }

    /// <summary>SSL_free and the context reference; every later call reports a failure.</summary>
    public void Dispose()
    {
        lock (this)
        {
            if (_ssl == 0)
            {
                return;
            }

            LibSsl.SSL_free(_ssl);
            _ssl = 0;
            _handshake?.TrySetCanceled();
        }

        _context.DangerousRelease();
    }

    /// <summary>Must hold the lock.</summary>
    private nint Outcome(int result, string call, out int errno)
    {
        if (result > 0)
        {
            errno = 0;
            return result;
        }

        var systemErrno = Marshal.GetLastPInvokeError();
        switch (LibSsl.SSL_get_error(_ssl, result))
        {
            case LibSsl.ErrorWantRead:
            case LibSsl.ErrorWantWrite:
                errno = Epoll.LinuxNative.EAGAIN;
                return -1;
            case LibSsl.ErrorZeroReturn:
                // close_notify (or, with SSL_OP_IGNORE_UNEXPECTED_EOF, a plain FIN): the end of the stream.
                errno = 0;
                return 0;
            case LibSsl.ErrorSyscall when systemErrno == 0:
                LibSsl.ERR_clear_error();
                _broken = true;
                errno = 0;
                return 0;
            case LibSsl.ErrorSyscall:
                LibSsl.ERR_clear_error();
                _broken = true;
                errno = systemErrno;
                return -1;
            default:
                _broken = true;
                Failure ??= new TlsException("TLS: " + LibSsl.LastError(call));
                errno = TlsFailed;
                return -1;
        }
    }

    private T With<T>(Func<nint, T> read)
    {
        lock (this)
        {
            return _ssl == 0 ? default! : read(_ssl);
        }
    }

    X509Certificate2? ITlsConnectionFeature.ClientCertificate
    {
        get
        {
            lock (this)
            {
                if (_peerCertificate is null && _ssl != 0 && LibSsl.SSL_get0_peer_certificate(_ssl) is var peer && peer != 0)
                {
                    _peerCertificate = X509CertificateLoader.LoadCertificate(LibSsl.ToDer(peer));
                }

                return _peerCertificate;
            }
        }

        set => throw new NotSupportedException("The client certificate comes from the handshake.");
    }

    Task<X509Certificate2?> ITlsConnectionFeature.GetClientCertificateAsync(CancellationToken cancellationToken)
        => Task.FromResult(((ITlsConnectionFeature)this).ClientCertificate);

    SslProtocols ITlsHandshakeFeature.Protocol
    {
        get
        {
            // Only the two versions the context allows can be negotiated (TlsServerContext refuses older ones).
            var version = With(static ssl => LibSsl.SSL_version(ssl));
#pragma warning disable CA5397 // The analyzer reads the wire version constant as an SslProtocols value; this maps it to Tls12/Tls13.
            return version == LibSsl.Tls13Version ? SslProtocols.Tls13 : version == LibSsl.Tls12Version ? SslProtocols.Tls12 : SslProtocols.None;
#pragma warning restore CA5397
        }
    }

#pragma warning disable SYSLIB0058 // Required by the interface; the protocol is what callers read.
    CipherAlgorithmType ITlsHandshakeFeature.CipherAlgorithm => CipherAlgorithmType.None;

    int ITlsHandshakeFeature.CipherStrength => 0;

    HashAlgorithmType ITlsHandshakeFeature.HashAlgorithm => HashAlgorithmType.None;

    int ITlsHandshakeFeature.HashStrength => 0;

    ExchangeAlgorithmType ITlsHandshakeFeature.KeyExchangeAlgorithm => ExchangeAlgorithmType.None;

    int ITlsHandshakeFeature.KeyExchangeStrength => 0;
#pragma warning restore SYSLIB0058
}
