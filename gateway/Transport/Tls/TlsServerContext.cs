using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Security;

namespace AccessLayer.Gateway.Transport.Tls;

/// <summary>
/// One OpenSSL server context built from one <see cref="TlsCertificates"/> load: the certificate(s) with their
/// intermediates (an ECDSA and an RSA one may be set at once; OpenSSL picks by the client's signature algorithms),
/// TLS versions, client-certificate policy (checked by <see cref="TlsCertificates.ValidateClientCertificate(X509Certificate2, X509Certificate2Collection)"/>,
/// the same code SslStream listeners use), session tickets under <see cref="TlsTicketKeys"/>, no server-side session
/// cache (tickets are stateless), and SSL_MODE_RELEASE_BUFFERS so an idle connection holds no record buffer.
/// </summary>
internal sealed unsafe class TlsServerContext : IDisposable
{
    /// <summary>Tickets sent after a full handshake: one is enough for a phone that reconnects from one app.</summary>
    private const int TicketsPerHandshake = 1;

    private static ReadOnlySpan<byte> SessionIdContext => "accesslayer"u8;

    private readonly ILogger _logger;

    private TlsServerContext(TlsCertificates certificates, ILogger logger)
    {
        Certificates = certificates;
        _logger = logger;
        Handle = null!;
    }

    public TlsCertificates Certificates { get; }

    public SslContextHandle Handle { get; private set; }

    /// <summary>Builds the context; throws <see cref="InvalidOperationException"/> with OpenSSL's reason.</summary>
    public static TlsServerContext Create(TlsCertificates certificates, ILogger logger)
    {
        var context = new TlsServerContext(certificates, logger);
        LibSsl.ERR_clear_error();
        var ctx = LibSsl.SSL_CTX_new(LibSsl.TLS_server_method());
        if (ctx == 0)
        {
            throw new InvalidOperationException(LibSsl.LastError("SSL_CTX_new"));
        }

        var owner = GCHandle.Alloc(context, GCHandleType.Normal);
        context.Handle = new SslContextHandle(ctx, owner);
        try
        {
            context.Configure(ctx, GCHandle.ToIntPtr(owner));
        }
        catch
        {
            context.Dispose();
            throw;
        }

        return context;
    }

    /// <summary>Drops this context's own reference; the SSL_CTX is freed when its last connection is.</summary>
    public void Dispose() => Handle.Dispose();

    private void Configure(nint ctx, nint self)
    {
        var options = Certificates.Options;
        // Whole writes (a refused one is retried with the same bytes, possibly from another address), no idle buffers.
        LibSsl.SSL_CTX_ctrl(ctx, LibSsl.CtrlMode, LibSsl.ModeAcceptMovingWriteBuffer | LibSsl.ModeReleaseBuffers, 0);
        var op = LibSsl.OpIgnoreUnexpectedEof | LibSsl.OpNoRenegotiation | LibSsl.OpCipherServerPreference;
        if (options.ResumeWithoutKeyExchange)
        {
            op |= LibSsl.OpAllowNoDheKex;
        }

        LibSsl.SSL_CTX_set_options(ctx, op);
        var (min, max) = Versions(options.Protocols);
        Check(LibSsl.SSL_CTX_ctrl(ctx, LibSsl.CtrlSetMinProtoVersion, min, 0) == 1, "SSL_CTX_set_min_proto_version");
        Check(LibSsl.SSL_CTX_ctrl(ctx, LibSsl.CtrlSetMaxProtoVersion, max, 0) == 1, "SSL_CTX_set_max_proto_version");

        // Stateless tickets only: a server-side cache would hold every session ever made (memory), and a fleet node
        // would not find another node's entries anyway. Except under early data: OpenSSL's anti-replay makes the tickets
        // of connections that allow it (SSL_set_max_early_data, the MLP listener) stateful and single-use, kept in this
        // cache, bounded by Tls:EarlyDataSessionCacheSize (TLS 1.2 sessions enter it too).
        if (options.MaxEarlyData is < 0 or > TlsOptions.MaxEarlyDataLimit)
        {
            throw new InvalidOperationException($"Tls:MaxEarlyData must be 0 (off) to {TlsOptions.MaxEarlyDataLimit}, not {options.MaxEarlyData}.");
        }

        if (options.MaxEarlyData > 0)
        {
            if (options.EarlyDataSessionCacheSize <= 0)
            {
                throw new InvalidOperationException($"Tls:EarlyDataSessionCacheSize must be positive, not {options.EarlyDataSessionCacheSize}.");
            }

            LibSsl.SSL_CTX_ctrl(ctx, LibSsl.CtrlSetSessCacheMode, LibSsl.SessCacheServer, 0);
            LibSsl.SSL_CTX_ctrl(ctx, LibSsl.CtrlSetSessCacheSize, options.EarlyDataSessionCacheSize, 0);
        }
        else
        {
            LibSsl.SSL_CTX_ctrl(ctx, LibSsl.CtrlSetSessCacheMode, 0, 0);
        }

        Check(LibSsl.SSL_CTX_set_num_tickets(ctx, TicketsPerHandshake) == 1, "SSL_CTX_set_num_tickets");
        Check(LibSsl.SSL_CTX_set_ex_data(ctx, 0, self) == 1, "SSL_CTX_set_ex_data");
        Check(LibSsl.SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, &OnTicketKey) == 1, "SSL_CTX_set_tlsext_ticket_key_evp_cb");
        fixed (byte* id = SessionIdContext)
        {
            // Resumption with client certificates requires it (the session is bound to this application's context).
            Check(LibSsl.SSL_CTX_set_session_id_context(ctx, id, (uint)SessionIdContext.Length) == 1, "SSL_CTX_set_session_id_context");
        }

        UseCertificate(ctx, Certificates.ServerCertificate, Certificates.ServerChain);
        if (Certificates.Alternate is { } alternate)
        {
            UseCertificate(ctx, alternate.Certificate, alternate.Chain);
        }

        if (options.ClientCertificateMode != TlsClientCertificateMode.None)
        {
            var mode = LibSsl.VerifyPeer | (options.ClientCertificateMode == TlsClientCertificateMode.Require ? LibSsl.VerifyFailIfNoPeerCert : 0);
            LibSsl.SSL_CTX_set_verify(ctx, mode, 0);
            LibSsl.SSL_CTX_set_cert_verify_callback(ctx, &OnVerify, self);
        }
    }

    private static (int Min, int Max) Versions(SslProtocols protocols)
    {
        if ((protocols & ~(SslProtocols.Tls12 | SslProtocols.Tls13)) != 0 || protocols == SslProtocols.None)
        {
            throw new InvalidOperationException($"Tls:Protocols: the epoll TLS listeners serve Tls12 and/or Tls13, not '{protocols}'.");
        }

        var min = (protocols & SslProtocols.Tls12) != 0 ? LibSsl.Tls12Version : LibSsl.Tls13Version;
        var max = (protocols & SslProtocols.Tls13) != 0 ? LibSsl.Tls13Version : LibSsl.Tls12Version;
        return (min, max);
    }

    private static void UseCertificate(nint ctx, X509Certificate2 certificate, X509Certificate2Collection chain)
    {
        var x509 = ParseCertificate(certificate.RawData);
        try
        {
            Check(LibSsl.SSL_CTX_use_certificate(ctx, x509) == 1, "SSL_CTX_use_certificate");
        }
        finally
        {
            LibSsl.X509_free(x509);
        }

        foreach (var intermediate in chain)
        {
            var link = ParseCertificate(intermediate.RawData);
            try
            {
                // SSL_CTX_add1_chain_cert: to the certificate just set.
                Check(LibSsl.SSL_CTX_ctrl(ctx, LibSsl.CtrlChainCert, 1, link) == 1, "SSL_CTX_add1_chain_cert");
            }
            finally
            {
                LibSsl.X509_free(link);
            }
        }

        var pkcs8 = ExportKey(certificate);
        try
        {
            nint key;
            fixed (byte* start = pkcs8)
            {
                var cursor = start;
                key = LibSsl.d2i_AutoPrivateKey(null, &cursor, pkcs8.Length);
            }

            Check(key != 0, "d2i_AutoPrivateKey");
            try
            {
                Check(LibSsl.SSL_CTX_use_PrivateKey(ctx, key) == 1, "SSL_CTX_use_PrivateKey");
                Check(LibSsl.SSL_CTX_check_private_key(ctx) == 1, "SSL_CTX_check_private_key");
            }
            finally
            {
                LibSsl.EVP_PKEY_free(key);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    private static byte[] ExportKey(X509Certificate2 certificate)
    {
        using AsymmetricAlgorithm key = (AsymmetricAlgorithm?)certificate.GetECDsaPrivateKey() ?? (AsymmetricAlgorithm?)certificate.GetRSAPrivateKey()
            ?? throw new InvalidOperationException($"Tls: the key of '{certificate.Subject}' is neither ECDSA nor RSA.");
        return key.ExportPkcs8PrivateKey();
    }

    private static nint ParseCertificate(byte[] der)
    {
        fixed (byte* start = der)
        {
            var cursor = start;
            var x509 = LibSsl.d2i_X509(null, &cursor, der.Length);
            Check(x509 != 0, "d2i_X509");
            return x509;
        }
    }

    private static void Check(bool ok, string call)
    {
        if (!ok)
        {
            throw new InvalidOperationException("Tls: " + LibSsl.LastError(call));
        }
    }

    private static TlsServerContext Owner(nint self) => (TlsServerContext)GCHandle.FromIntPtr(self).Target!;

    /// <summary>
    /// OpenSSL's whole chain check, replaced: the client's certificate and what it sent along go through the gateway's
    /// own policy. Runs inside SSL_read on the connection's reader thread. 1 accepts; 0 fails the handshake with an alert.
    /// </summary>
    [UnmanagedCallersOnly]
    private static int OnVerify(nint storeCtx, nint self)
    {
        try
        {
            var context = Owner(self);
            using var leaf = X509CertificateLoader.LoadCertificate(LibSsl.ToDer(LibSsl.X509_STORE_CTX_get0_cert(storeCtx)));
            var presented = new X509Certificate2Collection();
            var untrusted = LibSsl.X509_STORE_CTX_get0_untrusted(storeCtx);
            var count = untrusted == 0 ? 0 : LibSsl.OPENSSL_sk_num(untrusted);
            for (var i = 0; i < count; i++)
            {
                presented.Add(X509CertificateLoader.LoadCertificate(LibSsl.ToDer(LibSsl.OPENSSL_sk_value(untrusted, i))));
            }

            var valid = context.Certificates.ValidateClientCertificate(leaf, presented);
            foreach (var certificate in presented)
            {
                certificate.Dispose();
            }

            if (!valid)
            {
                GovernanceLog.ClientCertificateRejected(context._logger, leaf.Subject, "chain");
                LibSsl.X509_STORE_CTX_set_error(storeCtx, LibSsl.X509ErrApplicationVerification);
            }

            return valid ? 1 : 0;
        }
        catch (Exception)
        {
            // Never let an exception cross into OpenSSL: a certificate we cannot read is a rejected one.
            LibSsl.X509_STORE_CTX_set_error(storeCtx, LibSsl.X509ErrApplicationVerification);
            return 0;
        }
    }

    /// <summary>
    /// Session-ticket encryption (RFC 5077 layout, as OpenSSL's own): AES-256-CBC + HMAC-SHA256 under the newest
    /// key; decryption by the key the ticket names. Returns 1 (ok), 2 (ok, issue a fresh ticket: an older key),
    /// 0 (unknown key: full handshake), -1 (failure).
    /// </summary>
    [UnmanagedCallersOnly]
    private static int OnTicketKey(nint ssl, byte* name, byte* iv, nint cipherCtx, nint macCtx, int encrypt)
    {
        try
        {
            var context = Owner(LibSsl.SSL_CTX_get_ex_data(LibSsl.SSL_get_SSL_CTX(ssl), 0));
            var keys = context.Certificates.TicketKeys;
            int index;
            if (encrypt == 1)
            {
                index = 0;
                new ReadOnlySpan<byte>(keys.Keys, 0, TlsTicketKeys.NameLength).CopyTo(new Span<byte>(name, TlsTicketKeys.NameLength));
                if (LibSsl.RAND_bytes(iv, 16) != 1)
                {
                    return -1;
                }
            }
            else
            {
                index = keys.Find(new ReadOnlySpan<byte>(name, TlsTicketKeys.NameLength));
                if (index < 0)
                {
                    return 0;
                }
            }

            // The array is pinned (TlsTicketKeys): its address is stable.
            var key = (byte*)Unsafe.AsPointer(ref keys.Keys[index * TlsTicketKeys.KeyLength]);
            var hmacKey = key + TlsTicketKeys.NameLength;
            var aesKey = hmacKey + 32;
            var cipherOk = encrypt == 1
                ? LibSsl.EVP_EncryptInit_ex(cipherCtx, LibSsl.EVP_aes_256_cbc(), 0, aesKey, iv)
                : LibSsl.EVP_DecryptInit_ex(cipherCtx, LibSsl.EVP_aes_256_cbc(), 0, aesKey, iv);
            if (cipherOk != 1 || !SetHmacKey(macCtx, hmacKey))
            {
                return -1;
            }

            return encrypt == 1 || index == 0 ? 1 : 2;
        }
        catch (Exception)
        {
            return -1;
        }
    }

    /// <summary>EVP_MAC_CTX_set_params with {"key": 32 bytes, "digest": "SHA256"}; OSSL_PARAM laid out by hand (40 bytes on 64-bit).</summary>
    private static bool SetHmacKey(nint macCtx, byte* hmacKey)
    {
        var parameters = stackalloc OsslParam[3];
        parameters[0] = new OsslParam { Key = Literal("key"u8), DataType = OsslParam.OctetString, Data = hmacKey, DataSize = 32, ReturnSize = nuint.MaxValue };
        parameters[1] = new OsslParam { Key = Literal("digest"u8), DataType = OsslParam.Utf8String, Data = Literal("SHA256"u8), DataSize = 6, ReturnSize = nuint.MaxValue };
        parameters[2] = default;
        return LibSsl.EVP_MAC_CTX_set_params(macCtx, (byte*)parameters) == 1;
    }

    /// <summary>A u8 literal's bytes live in the assembly's data and are followed by a NUL: a stable C string.</summary>
    private static byte* Literal(ReadOnlySpan<byte> literal) => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(literal));

    [StructLayout(LayoutKind.Sequential)]
    private struct OsslParam
    {
        public const uint Utf8String = 4;
        public const uint OctetString = 5;

        public byte* Key;
        public uint DataType;
        public byte* Data;
        public nuint DataSize;
        public nuint ReturnSize;
    }
}
