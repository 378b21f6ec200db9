using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using AccessLayer.SessionGrains.Hosting;
using Microsoft.Extensions.Logging;

namespace AccessLayer.SessionGrains.Forwarding;

/// <summary>
/// This node's end of its peers' forward links (<see cref="PeerLink"/>): one connection per peer, whose batches are
/// delivered one after another in the order they came, each awaited before the next is read and answered once
/// delivered (<see cref="ForwardFrames.Answer"/>), so a node whose subscribers press holds its peers' next batches in
/// their queues, as its late answer to an Orleans call did. A connection that does
/// not open with this fleet's hello, or sends a frame over the limit, is closed with the reason logged here.
/// Each link is served by a thread of its own with blocking reads: the kernel wakes that thread when a batch arrives
/// and it delivers the batch there, where an async read would wake the runtime's socket thread first and then a
/// thread-pool worker (one thread hop more per batch on the receiving node; one thread per peer is cheap).
/// </summary>
internal sealed class ForwardListener : IAsyncDisposable
{
    private const int InitialBuffer = 64 * 1024;
    private static readonly byte[] Answers = Enumerable.Repeat(ForwardFrames.Answer, 64).ToArray();
    private static readonly TimeSpan HelloTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _listener;
    private readonly string _clusterId;
    private readonly Func<ReadOnlyMemory<byte>, Task> _deliver;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Socket, Task> _links = new();
    private Task _accepting = Task.CompletedTask;

    public ForwardListener(IPAddress address, int port, string clusterId, Func<ReadOnlyMemory<byte>, Task> deliver, ILogger logger)
    {
        _clusterId = clusterId;
        _deliver = deliver;
        _logger = logger;
        _listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _listener.Bind(new IPEndPoint(address, port));
            _listener.Listen(64);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }

        Endpoint = FleetEndpoint.Format(address.ToString(), ((IPEndPoint)_listener.LocalEndPoint!).Port);
    }

    /// <summary><c>host:port</c> peers connect to.</summary>
    public string Endpoint { get; }

    public void Start() => _accepting = Task.Run(AcceptAsync);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        foreach (var socket in _links.Keys)
        {
            socket.Dispose();
        }

        await Task.WhenAll(_links.Values.Append(_accepting)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException || _stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            socket.NoDelay = true;
            socket.ReceiveBufferSize = PeerLink.SocketBufferBytes;
            // Registered before it runs, so a link that ends at once (refused) is removed rather than left behind.
            var served = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _links[socket] = served.Task;
            new Thread(() => Serve(socket, served)) { IsBackground = true, Name = "fleet-link-in" }.Start();
        }
    }

    private void Serve(Socket socket, TaskCompletionSource served)
    {
        var remote = socket.RemoteEndPoint?.ToString() ?? "-";
        var buffer = ArrayPool<byte>.Shared.Rent(InitialBuffer);
        int start = 0, end = 0, answers = 0;
        var greeted = false;
        try
        {
            if (_stop.IsCancellationRequested)
            {
                // Accepted as this node stopped, after the stop closed the links it knew of.
                return;
            }

            socket.ReceiveTimeout = (int)HelloTimeout.TotalMilliseconds;
            while (true)
            {
                var pending = new ReadOnlySequence<byte>(buffer, start, end - start);
                var needed = ForwardFrames.HeaderSize;
                if (!greeted)
                {
                    if (ForwardFrames.TryReadHello(ref pending, out var clusterId))
                    {
                        if (!string.Equals(clusterId, _clusterId, StringComparison.Ordinal))
                        {
                            throw new FleetCodecException($"The hello names cluster '{clusterId}', not '{_clusterId}'.");
                        }

                        greeted = true;
                        socket.ReceiveTimeout = 0;
                        start = end - (int)pending.Length;
                        continue;
                    }

                    needed = end - start + 1;
                }
                else if (ForwardFrames.TryReadFrame(ref pending, out var batch, out needed))
                {
                    var frameStart = start + ForwardFrames.HeaderSize;
                    start = end - (int)pending.Length;
                    Deliver(buffer.AsMemory(frameStart, (int)batch.Length));
                    answers++;
                    if (start == end && buffer.Length > InitialBuffer)
                    {
                        // A big batch passed: the link goes back to a small buffer rather than holding its size.
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = ArrayPool<byte>.Shared.Rent(InitialBuffer);
                        start = end = 0;
                    }

                    continue;
                }

                if (answers > 0)
                {
                    // Answered before this end waits for more: the batches that came together are answered together.
                    Answer(socket, answers);
                    answers = 0;
                }

                (buffer, start, end) = MakeRoom(buffer, start, end, needed);
                var read = socket.Receive(buffer.AsSpan(end));
                if (read == 0)
                {
                    return;
                }

                end += read;
            }
        }
        catch (FleetCodecException ex)
        {
            FleetLog.LinkRefused(_logger, remote, ex.Message);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.TimedOut && !greeted)
        {
            FleetLog.LinkRefused(_logger, remote, "no hello within " + HelloTimeout.TotalSeconds + " s");
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The peer went away, or this node stops.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            socket.Dispose();
            _links.TryRemove(socket, out _);
            served.TrySetResult();
        }
    }

    private static void Answer(Socket socket, int count)
    {
        while (count > 0)
        {
            var chunk = Math.Min(count, Answers.Length);
            for (var sent = 0; sent < chunk;)
            {
                sent += socket.Send(Answers.AsSpan(sent, chunk - sent));
            }

            count -= chunk;
        }
    }

    /// <summary>Delivers on this link's thread, waiting there when the subscribers press (the next batch is not read meanwhile).</summary>
    private void Deliver(ReadOnlyMemory<byte> batch)
    {
        try
        {
            _deliver(batch).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // As a failed Orleans call was: this batch is lost (logged), the link and the batches after it are not.
            FleetLog.LinkBatchFailed(_logger, ex.Message);
        }
    }

    /// <summary>Room after <paramref name="end"/> for at least <paramref name="needed"/> bytes counted from <paramref name="start"/>: moved down, or into a bigger buffer.</summary>
    private static (byte[] Buffer, int Start, int End) MakeRoom(byte[] buffer, int start, int end, int needed)
    {
        var have = end - start;
        if (have == 0 && needed <= buffer.Length)
        {
            return (buffer, 0, 0);
        }

        if (start + needed <= buffer.Length)
        {
            return (buffer, start, end);
        }

        var target = needed <= buffer.Length ? buffer : ArrayPool<byte>.Shared.Rent(needed);
        Buffer.BlockCopy(buffer, start, target, 0, have);
        if (!ReferenceEquals(target, buffer))
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return (target, 0, have);
    }
}
