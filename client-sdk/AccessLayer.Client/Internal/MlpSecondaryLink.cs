using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Client.Internal;

/// <summary>
/// A second long link kept open beside the session's link while hedges are likely (docs/sdk.md "Retries and hedging"),
/// so a hedge is one request frame on a warm connection: no TCP, TLS or HTTP setup on the slow path, and a TCP stream of
/// its own, not stuck behind the first copy's lost segment. Its HELLO says <c>secondary</c> (docs/protocol.md §5.6) and
/// resumes with the ticket: it takes no session over and carries no pushes. It goes to the endpoint of the session's
/// link, is dropped when that link ends, and after a failed open the next waits a doubling backoff
/// (<see cref="MlpWeakNetworkOptions.ReconnectBaseDelay"/> × 2^n, at most <see cref="MlpWeakNetworkOptions.ReconnectMaxDelay"/>).
/// </summary>
internal sealed class MlpSecondaryLink(MlpClient client) : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time = client.Options.TimeProvider;
    private MlpLink? _link;
    private MlpLink? _beside;
    private Task _opening = Task.CompletedTask;
    private long _notBefore;
    private int _failures;
    private long _opened;
    private bool _disposed;

    /// <summary>The open secondary link beside the current session link; null when there is none (yet).</summary>
    public MlpLink? Current
    {
        get
        {
            lock (_lock)
                return _link is { IsOpen: true } link && ReferenceEquals(_beside, client.CurrentLink) ? link : null;
        }
    }

    /// <summary>Secondary links opened (handshakes completed) so far.</summary>
    public long Opened => Interlocked.Read(ref _opened);

    /// <summary>Opens one beside <paramref name="primary"/> in the background, unless one is open or opening for it or the backoff after a failure runs.</summary>
    public void Ensure(MlpLink primary)
    {
        MlpLink? stale;
        lock (_lock)
        {
            if (_disposed || !_opening.IsCompleted || (_link is { IsUp: true } && ReferenceEquals(_beside, primary)))
                return;
            if (_notBefore != 0 && _time.GetTimestamp() < _notBefore)
                return;
            stale = _link;
            _link = null;
            _beside = primary;
            _opening = OpenAsync(primary, stale);
        }
    }

    /// <summary>The session's link ended (or was replaced): its secondary goes with it.</summary>
    public void OnPrimaryClosed(MlpLink primary)
    {
        MlpLink? dropped = null;
        lock (_lock)
        {
            if (ReferenceEquals(_beside, primary))
            {
                dropped = _link;
                _link = null;
                _beside = null;
            }
        }

        if (dropped is not null)
            _ = dropped.DisposeAsync().AsTask();
    }

    /// <summary>The secondary link itself ended (the server closed it, a dead path): the next hedge opportunity opens another.</summary>
    public void OnClosed(MlpLink link)
    {
        lock (_lock)
        {
            if (ReferenceEquals(_link, link))
                _link = null;
        }
    }

    private async Task OpenAsync(MlpLink primary, MlpLink? stale)
    {
        if (stale is not null)
            await stale.DisposeAsync().ConfigureAwait(false);
        var options = client.Options;
        if (client.ConnectedEndpoint is not { } endpoint || client.ResumeTicket.IsEmpty && string.IsNullOrEmpty(options.DeviceToken))
            return;
        var timeout = client.Timeouts.ForConnect(options.ConnectTimeout);
        MlpLink? link = null;
        try
        {
            using var deadline = new CancellationTokenSource(timeout, _time);
            var transport = await options.TransportFactory.ConnectAsync(endpoint, deadline.Token).ConfigureAwait(false);
            transport.TuneLossRecovery(options.WeakNetwork.TcpRtoMin, options.WeakNetwork.TcpThinLinearTimeouts);
            link = new MlpLink(transport, client, secondary: true);
            await link.HandshakeAsync(MlpHello.Build(client, useTicket: !client.ResumeTicket.IsEmpty, secondary: true), timeout, deadline.Token).ConfigureAwait(false);
            lock (_lock)
            {
                if (!_disposed && ReferenceEquals(_beside, primary) && ReferenceEquals(client.CurrentLink, primary))
                {
                    _link = link;
                    link = null;
                    _failures = 0;
                    _notBefore = 0;
                }
            }

            Interlocked.Increment(ref _opened);
        }
        catch (Exception ex) when (ex is TimeoutException or IOException or MlpException or OperationCanceledException or System.Net.Sockets.SocketException or System.Net.WebSockets.WebSocketException)
        {
            var weak = options.WeakNetwork;
            lock (_lock)
            {
                var wait = weak.ReconnectBaseDelay * Math.Pow(2, Math.Min(_failures, 16));
                _failures++;
                _notBefore = _time.GetTimestamp() + (long)((wait < weak.ReconnectMaxDelay ? wait : weak.ReconnectMaxDelay).TotalSeconds * _time.TimestampFrequency);
            }
        }
        finally
        {
            if (link is not null)
                await link.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        MlpLink? link;
        Task opening;
        lock (_lock)
        {
            _disposed = true;
            link = _link;
            _link = null;
            opening = _opening;
        }

        await opening.ConfigureAwait(false);
        if (link is not null)
            await link.DisposeAsync().ConfigureAwait(false);
    }
}
