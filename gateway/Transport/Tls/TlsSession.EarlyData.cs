namespace AccessLayer.Gateway.Transport.Tls;

/// <summary>
/// TLS 1.3 0-RTT on a session made with early data allowed (<c>Tls:MaxEarlyData</c>, the MLP listener): reads go
/// through SSL_read_early_data until OpenSSL says early data is over, writes meanwhile are 0.5-RTT data, and the
/// handshake's end (the client's Finished) completes <see cref="HandshakeCompleted"/>.
/// </summary>
internal sealed unsafe partial class TlsSession
{
    private enum EarlyData : byte
    {
        /// <summary>Not offered on this connection: plain SSL_read/SSL_write from the start.</summary>
        None,

        /// <summary>SSL_read_early_data until it says FINISH; the server's writes are 0.5-RTT data (SSL_write_early_data).</summary>
        Reading,

        /// <summary>Early data over (or never sent); the client's Finished not read yet.</summary>
        AwaitingFinished,

        /// <summary>The handshake completed.</summary>
        Complete,
    }

    /// <summary>Whether this connection was made with early data allowed (<see cref="ITlsEarlyDataFeature"/> applies).</summary>
    public bool AcceptsEarlyData { get; }

    /// <inheritdoc/>
    public long EarlyDataBytes => Volatile.Read(ref _earlyBytes);

    /// <inheritdoc/>
    public bool InEarlyData => _early is EarlyData.Reading or EarlyData.AwaitingFinished;

    /// <inheritdoc/>
    public Task HandshakeCompleted
    {
        get
        {
            lock (this)
            {
                if (_early is EarlyData.None or EarlyData.Complete)
                {
                    return Task.CompletedTask;
                }

                if (_ssl == 0 || _broken)
                {
                    return Task.FromCanceled(new CancellationToken(canceled: true));
                }

                return (_handshake ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
        }
    }

    /// <summary>
    /// Must hold the lock. SSL_read_early_data: true with <paramref name="result"/> as <see cref="Read"/> returns it (early
    /// data bytes, the end, or -1 with errno); false once early data is over (none sent, rejected, or EndOfEarlyData
    /// read), when the caller goes on with SSL_read.
    /// </summary>
    private bool ReadEarly(Span<byte> buffer, out nint result, out int errno)
    {
        _earlyStarted = true;
        nuint read = 0;
        int status;
        fixed (byte* p = buffer)
        {
            do
            {
                status = LibSsl.SSL_read_early_data(_ssl, p, (nuint)buffer.Length, &read);
            }
            while (status == LibSsl.ReadEarlyDataSuccess && read == 0);
        }

        if (status == LibSsl.ReadEarlyDataSuccess)
        {
            _earlyBytes += (long)read;
            errno = 0;
            result = (nint)read;
            return true;
        }

        if (status == LibSsl.ReadEarlyDataFinish)
        {
            _early = EarlyData.AwaitingFinished;
            errno = 0;
            result = 0;
            return false;
        }

        result = Outcome(-1, "SSL_read_early_data", out errno);
        CheckHandshake();
        return true;
    }

    /// <summary>Must hold the lock: after the client's Finished, early data is over and whoever waits for the handshake goes on.</summary>
    private void CheckHandshake()
    {
        if (_early == EarlyData.AwaitingFinished && !_broken && LibSsl.SSL_is_init_finished(_ssl) == 1)
        {
            _early = EarlyData.Complete;
            _handshake?.TrySetResult();
        }
        else if (_broken)
        {
            _handshake?.TrySetCanceled();
        }
    }
}
