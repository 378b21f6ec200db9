using System.Runtime.InteropServices;

namespace AccessLayer.Gateway.Transport.Tls;

/// <summary>
/// The slice of OpenSSL 3 (Debian's libssl.so.3 / libcrypto.so.3) the epoll engine's TLS uses, server side only.
/// Pointers are plain <see cref="nint"/>; ownership lives in <see cref="SslContextHandle"/> and <see cref="TlsSession"/>.
/// Macros of the C API (SSL_CTX_set_mode, SSL_set_max_send_fragment...) are their SSL_CTX_ctrl/SSL_ctrl calls, with the
/// command numbers from ssl.h. Every call that can fail is preceded by <see cref="ERR_clear_error"/> on the calling
/// thread (OpenSSL's error queue is per thread) and followed, on failure, by <see cref="LastError"/>.
/// </summary>
internal static unsafe partial class LibSsl
{
    private const string Ssl = "libssl.so.3";
    private const string Crypto = "libcrypto.so.3";

    public const int ErrorWantRead = 2;
    public const int ErrorWantWrite = 3;
    public const int ErrorSyscall = 5;
    public const int ErrorZeroReturn = 6;

    public const int CtrlSetSessCacheSize = 42;
    public const int CtrlSetSessCacheMode = 44;
    public const long SessCacheServer = 0x2;
    public const int CtrlMode = 33;
    public const int CtrlSetMaxSendFragment = 52;
    public const int CtrlChainCert = 89;
    public const int CtrlSetSplitSendFragment = 125;
    public const int CtrlSetMinProtoVersion = 123;
    public const int CtrlSetMaxProtoVersion = 124;

    public const long ModeAcceptMovingWriteBuffer = 0x2;
    public const long ModeReleaseBuffers = 0x10;

    public const ulong OpIgnoreUnexpectedEof = 1UL << 7;
    public const ulong OpAllowNoDheKex = 1UL << 10;
    public const ulong OpNoRenegotiation = 1UL << 30;
    public const ulong OpCipherServerPreference = 1UL << 22;

    public const int VerifyPeer = 0x1;
    public const int VerifyFailIfNoPeerCert = 0x2;

    public const int ReadEarlyDataError = 0;
    public const int ReadEarlyDataSuccess = 1;
    public const int ReadEarlyDataFinish = 2;

    public const int Tls12Version = 0x0303;
    public const int Tls13Version = 0x0304;

    /// <summary>X509_V_ERR_APPLICATION_VERIFICATION: the alert a rejected client certificate gets.</summary>
    public const int X509ErrApplicationVerification = 50;

    [LibraryImport(Ssl)]
    public static partial nint TLS_server_method();

    [LibraryImport(Ssl)]
    public static partial nint SSL_CTX_new(nint method);

    [LibraryImport(Ssl)]
    public static partial void SSL_CTX_free(nint ctx);

    [LibraryImport(Ssl)]
    public static partial long SSL_CTX_ctrl(nint ctx, int cmd, long larg, nint parg);

    [LibraryImport(Ssl)]
    public static partial ulong SSL_CTX_set_options(nint ctx, ulong options);

    [LibraryImport(Ssl)]
    public static partial int SSL_CTX_use_certificate(nint ctx, nint x509);

    [LibraryImport(Ssl)]
    public static partial int SSL_CTX_use_PrivateKey(nint ctx, nint pkey);

    [LibraryImport(Ssl)]
    public static partial int SSL_CTX_check_private_key(nint ctx);

    [LibraryImport(Ssl)]
    public static partial void SSL_CTX_set_verify(nint ctx, int mode, nint callback);

    [LibraryImport(Ssl)]
    public static partial void SSL_CTX_set_cert_verify_callback(nint ctx, delegate* unmanaged<nint, nint, int> callback, nint arg);

    [LibraryImport(Ssl)]
    public static partial int SSL_CTX_set_num_tickets(nint ctx, nuint count);

    [LibraryImport(Ssl)]
    public static partial int SSL_CTX_set_tlsext_ticket_key_evp_cb(nint ctx, delegate* unmanaged<nint, byte*, byte*, nint, nint, int, int> callback);

    [LibraryImport(Ssl)]
    public static partial int SSL_CTX_set_ex_data(nint ctx, int index, nint data);

    [LibraryImport(Ssl)]
    public static partial nint SSL_CTX_get_ex_data(nint ctx, int index);

    [LibraryImport(Ssl)]
    public static partial int SSL_CTX_set_session_id_context(nint ctx, byte* id, uint length);

    [LibraryImport(Ssl)]
    public static partial nint SSL_new(nint ctx);

    [LibraryImport(Ssl)]
    public static partial void SSL_free(nint ssl);

    [LibraryImport(Ssl)]
    public static partial int SSL_set_fd(nint ssl, int fd);

    [LibraryImport(Ssl)]
    public static partial void SSL_set_accept_state(nint ssl);

    [LibraryImport(Ssl)]
    public static partial int SSL_set_max_early_data(nint ssl, uint maxBytes);

    [LibraryImport(Ssl)]
    public static partial int SSL_set_recv_max_early_data(nint ssl, uint maxBytes);

    [LibraryImport(Ssl, SetLastError = true)]
    public static partial int SSL_read_early_data(nint ssl, byte* buffer, nuint length, nuint* read);

    [LibraryImport(Ssl, SetLastError = true)]
    public static partial int SSL_write_early_data(nint ssl, byte* buffer, nuint length, nuint* written);

    [LibraryImport(Ssl, SetLastError = true)]
    public static partial int SSL_read(nint ssl, byte* buffer, int length);

    [LibraryImport(Ssl, SetLastError = true)]
    public static partial int SSL_write(nint ssl, byte* buffer, int length);

    [LibraryImport(Ssl, SetLastError = true)]
    public static partial int SSL_shutdown(nint ssl);

    [LibraryImport(Ssl)]
    public static partial int SSL_get_error(nint ssl, int result);

    [LibraryImport(Ssl)]
    public static partial long SSL_ctrl(nint ssl, int cmd, long larg, nint parg);

    [LibraryImport(Ssl)]
    public static partial int SSL_is_init_finished(nint ssl);

    [LibraryImport(Ssl)]
    public static partial int SSL_version(nint ssl);

    [LibraryImport(Ssl)]
    public static partial nint SSL_get0_peer_certificate(nint ssl);

    [LibraryImport(Ssl)]
    public static partial nint SSL_get_SSL_CTX(nint ssl);

    [LibraryImport(Crypto)]
    public static partial nint d2i_X509(nint* reuse, byte** input, long length);

    [LibraryImport(Crypto)]
    public static partial int i2d_X509(nint x509, byte** output);

    [LibraryImport(Crypto)]
    public static partial void X509_free(nint x509);

    [LibraryImport(Crypto)]
    public static partial nint d2i_AutoPrivateKey(nint* reuse, byte** input, long length);

    [LibraryImport(Crypto)]
    public static partial void EVP_PKEY_free(nint pkey);

    [LibraryImport(Crypto)]
    public static partial nint X509_STORE_CTX_get0_cert(nint storeCtx);

    [LibraryImport(Crypto)]
    public static partial nint X509_STORE_CTX_get0_untrusted(nint storeCtx);

    [LibraryImport(Crypto)]
    public static partial void X509_STORE_CTX_set_error(nint storeCtx, int error);

    [LibraryImport(Crypto)]
    public static partial int OPENSSL_sk_num(nint stack);

    [LibraryImport(Crypto)]
    public static partial nint OPENSSL_sk_value(nint stack, int index);

    [LibraryImport(Crypto)]
    public static partial nint EVP_aes_256_cbc();

    [LibraryImport(Crypto)]
    public static partial int EVP_EncryptInit_ex(nint ctx, nint cipher, nint engine, byte* key, byte* iv);

    [LibraryImport(Crypto)]
    public static partial int EVP_DecryptInit_ex(nint ctx, nint cipher, nint engine, byte* key, byte* iv);

    [LibraryImport(Crypto)]
    public static partial int EVP_MAC_CTX_set_params(nint ctx, byte* parameters);

    [LibraryImport(Crypto)]
    public static partial int RAND_bytes(byte* buffer, int length);

    [LibraryImport(Crypto)]
    public static partial ulong ERR_get_error();

    [LibraryImport(Crypto)]
    public static partial void ERR_clear_error();

    [LibraryImport(Crypto)]
    private static partial void ERR_error_string_n(ulong error, byte* buffer, nuint length);

    /// <summary>Drains this thread's OpenSSL error queue into one readable line (the first error names the cause).</summary>
    public static string LastError(string call)
    {
        var first = ERR_get_error();
        if (first == 0)
        {
            return call + " failed";
        }

        var text = stackalloc byte[256];
        ERR_error_string_n(first, text, 256);
        var message = Marshal.PtrToStringUTF8((nint)text) ?? "unknown";
        while (ERR_get_error() != 0)
        {
            // The rest of the queue: its first entry already says why.
        }

        return $"{call} failed: {message}";
    }

    /// <summary>The DER encoding of an X509 OpenSSL holds (not owned here).</summary>
    public static byte[] ToDer(nint x509)
    {
        var length = i2d_X509(x509, null);
        if (length <= 0)
        {
            ERR_clear_error();
            return [];
        }

        var der = new byte[length];
        fixed (byte* start = der)
        {
            var cursor = start;
            return i2d_X509(x509, &cursor) == length ? der : [];
        }
    }
}
