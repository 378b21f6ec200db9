using System.Net.Sockets;
using AccessLayer.SessionGrains.Hosting;
using AccessLayer.SessionGrains.Nodes;
using Microsoft.Extensions.Logging;

namespace AccessLayer.SessionGrains.Forwarding;

/// <summary>
/// The forward channel to one peer: a TCP connection of its own to the peer's <see cref="ForwardListener"/> (its
/// endpoint from <see cref="INodeGrain.GetInfoAsync"/>), so a batch costs one send and one read instead of an Orleans
/// request and response, each crossing a send queue, a receive loop and the grain scheduler. TCP keeps the batches in
/// order and pushes back when the peer reads slowly (its read loop waits for the subscribers it found pressing).
/// While there is no link (the peer advertises none, or it cannot be reached) a batch goes as an Orleans call as
/// before, and the link is tried again a second later.
/// </summary>
internal sealed class PeerLink(string peer, INodeGrain grain, string clusterId, TimeProvider time, ILogger logger, long windowBytes = PeerLink.DefaultWindowBytes) : IPeerChannel
{
    /// <summary>Unanswered bytes a link may have out: two full batches (<c>2 × Fleet:ForwardBatchBytes</c> by default).</summary>
    internal const long DefaultWindowBytes = 2 * 256 * 1024;

    /// <summary>Unanswered batches a link may have out, however small.</summary>
    internal const int WindowBatches = 64;

    /// <summary>Kernel buffering each way, bounded so a slow peer shows as the forwarder's queue (and its pressure) rather than as megabytes in sockets.</summary>
    internal const int SocketBufferBytes = 256 * 1024;

    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);

    private Link? _link;
    private string? _endpoint;
    private long _retryAt;

    /// <summary>Whether batches go over the link now (false: as Orleans calls).</summary>
    public bool IsLinked => _link is not null;

    public async ValueTask SendAsync(Memory<byte> frame, CancellationToken cancellationToken)
    {
        var link = frame.Length - ForwardFrames.HeaderSize > ForwardFrames.MaxFrameBytes ? null : _link ?? await TryLinkAsync(cancellationToken).ConfigureAwait(false);
        if (link is not null && !await link.Window.TakeAsync(frame.Length, cancellationToken).ConfigureAwait(false))
        {
            // The link died while the window was full: this batch was not sent, so it may go as a call.
            Unlink(link, "closed by the peer");
            link = null;
        }

        if (link is null)
        {
            await grain.DeliverAsync(frame[ForwardFrames.HeaderSize..].ToArray()).WaitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        ForwardFrames.WriteHeader(frame.Span);
        try
        {
            for (var sent = 0; sent < frame.Length;)
            {
                sent += await link.Socket.SendAsync(frame[sent..], SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Part of the batch may have reached the peer: it is not sent again (the forwarder counts it lost), the next goes on a new link.
            Unlink(link, ex.Message);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_link is { } link)
        {
            _link = null;
            await link.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask<Link?> TryLinkAsync(CancellationToken cancellationToken)
    {
        if (time.GetTimestamp() < _retryAt)
        {
            return null;
        }

        _retryAt = time.GetTimestamp() + (long)(RetryAfter.TotalSeconds * time.TimestampFrequency);
        Socket? socket = null;
        try
        {
            // Asked again while the peer advertises none: its listener may not have been bound when it first answered.
            _endpoint ??= (await grain.GetInfoAsync().WaitAsync(ConnectTimeout, time, cancellationToken).ConfigureAwait(false)).ForwardEndpoint;
            if (_endpoint is null || !FleetEndpoint.TryParse(_endpoint, out var host, out var port))
            {
                return null;
            }

            socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, SendBufferSize = SocketBufferBytes };
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(ConnectTimeout);
                await socket.ConnectAsync(host, port, timeout.Token).ConfigureAwait(false);
                await socket.SendAsync(ForwardFrames.EncodeHello(clusterId), SocketFlags.None, timeout.Token).ConfigureAwait(false);
            }

            FleetLog.LinkUp(logger, peer, _endpoint);
            _link = new Link(socket, new ForwardWindow(windowBytes, WindowBatches));
            return _link;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            socket?.Dispose();
            FleetLog.LinkFailed(logger, peer, _endpoint ?? "-", ex.Message);
            return null;
        }
    }

    private void Unlink(Link link, string reason)
    {
        FleetLog.LinkLost(logger, peer, reason);
        _ = link.DisposeAsync().AsTask();
        _link = null;
        _retryAt = 0;
    }

    /// <summary>
    /// One connection and its window (<see cref="ForwardWindow"/>): the peer answers each batch with one byte once it
    /// delivered it, so what waits for a slow peer waits in the forwarder's queue, where it presses publishers, as it did
    /// when one Orleans call was out at a time.
    /// </summary>
    private sealed class Link : IAsyncDisposable
    {
        private readonly Task _answers;

        public Link(Socket socket, ForwardWindow window)
        {
            Socket = socket;
            Window = window;
            _answers = Task.Run(ReadAnswersAsync);
        }

        public Socket Socket { get; }

        public ForwardWindow Window { get; }

        public async ValueTask DisposeAsync()
        {
            Socket.Dispose();
            await _answers.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        private async Task ReadAnswersAsync()
        {
            var answers = new byte[64];
            try
            {
                int read;
                while ((read = await Socket.ReceiveAsync(answers, SocketFlags.None).ConfigureAwait(false)) > 0)
                {
                    if (answers.AsSpan(0, read).ContainsAnyExcept(ForwardFrames.Answer) || !Window.Answered(read))
                    {
                        break;
                    }
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }
            finally
            {
                Window.Close();
            }
        }
    }
}
