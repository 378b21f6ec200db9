using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Tasks.Sources;
using AccessLayer.Gateway.Mlp.Routing;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// This gateway's link to one gateway of another site (a site with <c>link: true</c>): one TCP connection to the
/// peer's <c>Traffic:ForwardPort</c>, opened with the first forward and kept, on which every forward to that gateway
/// travels as a call frame with its own id and comes back as an answer (<see cref="TrafficLinkFrames"/>), any number in
/// flight at once, their frames written together (<see cref="TrafficLinkWriter"/>). A link that breaks fails the calls
/// on it (a call that was sent is not sent again unless idempotent: the forwarder decides) and the next forward opens
/// a new one.
/// </summary>
internal sealed class TrafficLink(string host, int port, int maxFrame, TrafficMetrics metrics, TimeProvider time, ILogger logger) : IAsyncDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);
    private readonly ILogger _logger = logger;
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private Connection? _connection;
    private bool _disposed;

    public string Name { get; } = $"{host}:{port}";

    /// <summary>
    /// Sends one forward and waits for its answer, which carries <c>mlp-forwarded-by</c> (the hop) after the peer's
    /// headers; a <see cref="TrafficLinkException"/> when the link fails (<c>NeverSent</c> when no connection could be made).
    /// <paramref name="extra"/>: a header sent after <paramref name="headers"/> (the long link's cookie).
    /// </summary>
    // The state machine of a call that waits is taken from a pool, not allocated per call.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<MlpServiceResponse> CallAsync(TrafficForward forward, int timeoutMs, byte[] key, MlpServiceRequest request, IReadOnlyList<Protocol.Hpack.HeaderField> headers, Protocol.Hpack.HeaderField? extra, CancellationToken cancellationToken)
    {
        var connection = _connection is { Dead: false } open ? open : await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var call = connection.Register(forward.Hop);
        try
        {
            Send(connection, call.Id, forward, timeoutMs, key, request.Body.Span, headers, extra);
        }
        catch (ArgumentException ex)
        {
            // A string the frame cannot carry (U+0000, over 64 KiB): the call never left.
            connection.Forget(call.Id);
            connection.Return(call);
            throw new TrafficLinkException($"the call cannot travel on a link: {ex.Message}", ex) { NeverSent = true };
        }

        // The caller's deadline or its link ending: the call stops waiting, and an answer that still comes is dropped.
        var registration = cancellationToken.UnsafeRegister(static state => ((PendingCall)state!).Abandon(), call);
        try
        {
            return await call.Task.ConfigureAwait(false);
        }
        finally
        {
            // Once the give-up can no longer run (Dispose waits for one running), the call is the link's to reuse.
            registration.Dispose();
            connection.Return(call);
        }
    }

    private static void Send(Connection connection, uint id, in TrafficForward forward, int timeoutMs, byte[] key, ReadOnlySpan<byte> body, IReadOnlyList<Protocol.Hpack.HeaderField> headers, Protocol.Hpack.HeaderField? extra)
    {
        Span<byte> signature = stackalloc byte[32];
        TrafficForwardSignature.Compute(key, forward, body, signature);
        var frame = TrafficLinkFrames.EncodeCall(id, forward, timeoutMs, signature, headers, extra, body, out var length);
        connection.Writer.Send(frame, length);
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        if (_connection is { } connection)
        {
            await connection.CloseAsync("the gateway is stopping").ConfigureAwait(false);
        }

        _connecting.Dispose();
    }

    private async ValueTask<Connection> ConnectAsync(CancellationToken cancellationToken)
    {
        await _connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_connection is { Dead: false } open)
            {
                return open;
            }

            ObjectDisposedException.ThrowIf(_disposed, this);
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                using var timeout = new CancellationTokenSource(ConnectTimeout, time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
                await socket.ConnectAsync(host, port, linked.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                throw new TrafficLinkException($"no link to {Name}: {ex.Message}", ex) { NeverSent = true };
            }

            var connection = new Connection(this, socket, maxFrame);
            _connection = connection;
            metrics.Links.Add(1, TrafficMetrics.Tag("direction", "out"));
            TrafficLog.LinkOpened(_logger, Name);
            return connection;
        }
        finally
        {
            _connecting.Release();
        }
    }

    /// <summary>
    /// A call waiting for its answer, reused from call to call on one connection (so a forward allocates no completion
    /// source): each use has its call's id, and only a settle naming that id completes it, so an answer, a give-up or a
    /// failure that comes late for a call already settled changes nothing, though the object now serves another call.
    /// Its continuation runs where it is settled (the read loop, for an answer): the waiting call only hands the answer
    /// to its own link's writer.
    /// </summary>
    private sealed class PendingCall : IValueTaskSource<MlpServiceResponse>
    {
        private ManualResetValueTaskSourceCore<MlpServiceResponse> _core;
        // The call's id shifted left by one; the low bit set once settled.
        private long _state;
        private Connection? _connection;

        public uint Id { get; private set; }

        /// <summary>The forwarding site, which the answer names in <c>mlp-forwarded-by</c>.</summary>
        public Protocol.Hpack.HeaderField ForwardedBy { get; private set; }

        public ValueTask<MlpServiceResponse> Task => new(this, _core.Version);

        public void Start(Connection connection, uint id, string hop)
        {
            _core.Reset();
            _connection = connection;
            Id = id;
            if (!ReferenceEquals(ForwardedBy.Value, hop))
            {
                ForwardedBy = new(TrafficHeaders.ForwardedBy, hop);
            }

            Volatile.Write(ref _state, (long)id << 1);
        }

        public void Abandon()
        {
            var id = Id;
            _connection?.Forget(id);
            TrySetException(id, new OperationCanceledException("the forward was given up on"));
        }

        public bool TrySetResult(uint id, MlpServiceResponse response)
        {
            if (!TrySettle(id))
            {
                return false;
            }

            _core.SetResult(response);
            return true;
        }

        public bool TrySetException(uint id, Exception error)
        {
            if (!TrySettle(id))
            {
                return false;
            }

            _core.SetException(error);
            return true;
        }

        private bool TrySettle(uint id)
        {
            var waiting = (long)id << 1;
            return Interlocked.CompareExchange(ref _state, waiting | 1, waiting) == waiting;
        }

        public MlpServiceResponse GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }

    /// <summary>One TCP connection of the link and the calls waiting on it.</summary>
    private sealed class Connection : IDisposable
    {
        private const int MaxFree = 1024;

        private readonly TrafficLink _link;
        private readonly NetworkStream _stream;
        private readonly int _maxFrame;
        private readonly ConcurrentDictionary<uint, PendingCall> _calls = new();
        private readonly TrafficLinkStrings _strings = new();
        // Calls settled and given back, for the next ones (at most the calls once in flight together, bounded).
        private readonly ConcurrentBag<PendingCall> _free = [];
        private int _freeCount;
        private uint _nextId;
        private volatile bool _dead;
        private bool _unread;

        public Connection(TrafficLink link, Socket socket, int maxFrame)
        {
            _link = link;
            _maxFrame = maxFrame;
            _stream = new NetworkStream(socket, ownsSocket: true);
            Writer = new TrafficLinkWriter(PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true)));
            var magic = ArrayPool<byte>.Shared.Rent(TrafficLinkFrames.Magic.Length);
            TrafficLinkFrames.Magic.CopyTo(magic);
            Writer.Send(magic, TrafficLinkFrames.Magic.Length);
            // A connection that can no longer send is closed: its read loop ends and fails the calls waiting.
            _ = Writer.Completion.ContinueWith(static (_, state) => ((Connection)state!).Dispose(), this, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            _ = ReadAsync();
        }

        public TrafficLinkWriter Writer { get; }

        /// <summary>Closes the socket (the stream owns it): the read loop ends and fails the calls still waiting.</summary>
        public void Dispose() => _stream.Dispose();

        public bool Dead => _dead;

        public PendingCall Register(string hop)
        {
            uint id;
            do
            {
                id = Interlocked.Increment(ref _nextId);
            }
            while (id == 0);

            var call = _free.TryTake(out var reused) ? reused : new PendingCall();
            if (reused is not null)
            {
                Interlocked.Decrement(ref _freeCount);
            }

            call.Start(this, id, hop);
            _calls[id] = call;
            if (_dead && _calls.TryRemove(id, out _))
            {
                Return(call);
                throw new TrafficLinkException($"the link to {_link.Name} closed") { NeverSent = true };
            }

            return call;
        }

        /// <summary>Takes back a call whose caller is done with it (its result read, its give-up unregistered).</summary>
        public void Return(PendingCall call)
        {
            if (Interlocked.Increment(ref _freeCount) <= MaxFree)
            {
                _free.Add(call);
            }
            else
            {
                Interlocked.Decrement(ref _freeCount);
            }
        }

        public void Forget(uint id) => _calls.TryRemove(id, out _);

        public async ValueTask CloseAsync(string reason)
        {
            Fail(reason);
            Writer.Complete();
            await Writer.Completion.ConfigureAwait(false);
            Dispose();
        }

        private async Task ReadAsync()
        {
            var reason = "closed by the peer";
            var input = PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true));
            try
            {
                while (true)
                {
                    var result = await input.ReadAsync().ConfigureAwait(false);
                    var buffer = result.Buffer;
                    try
                    {
                        while (TrafficLinkFrames.TryReadFrame(ref buffer, _maxFrame, out var frame))
                        {
                            if (!Dispatch(frame, out reason))
                            {
                                return;
                            }
                        }
                    }
                    finally
                    {
                        input.AdvanceTo(buffer.Start, buffer.End);
                    }

                    if (result.IsCompleted)
                    {
                        return;
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                reason = ex.Message;
            }
            finally
            {
                await input.CompleteAsync().ConfigureAwait(false);
                if (!_link._disposed)
                {
                    TrafficLog.LinkClosed(_link._logger, _link.Name, reason);
                }

                Fail(reason, neverSent: _unread);
                Writer.Complete();
                Dispose();
            }
        }

        /// <summary>Hands an answer or a refusal to its call; false (and why) when the peer refused the whole link.</summary>
        private bool Dispatch(in System.Buffers.ReadOnlySequence<byte> frame, out string reason)
        {
            reason = string.Empty;
            var (kind, callId) = TrafficLinkFrames.ReadHead(frame);
            if (kind == TrafficLinkFrames.Answer)
            {
                // Read only for a call still waiting (one given up on is dropped unread), with its mark in the same array.
                if (_calls.TryRemove(callId, out var answer))
                {
                    MlpServiceResponse response;
                    try
                    {
                        (_, response) = TrafficLinkFrames.ReadAnswer(frame, _strings, answer.ForwardedBy);
                    }
                    catch (TrafficLinkException ex)
                    {
                        // Out of the table already: the link's end would not find it.
                        answer.TrySetException(callId, new TrafficLinkException($"the link to {_link.Name} closed: {ex.Message}"));
                        throw;
                    }

                    answer.TrySetResult(callId, response);
                }

                return true;
            }

            if (kind == TrafficLinkFrames.Refusal)
            {
                var (id, why) = TrafficLinkFrames.ReadRefusal(frame);
                if (id == 0)
                {
                    // The peer answers every call it read before it refuses the link: those still waiting were never read.
                    reason = "refused by the peer: " + why;
                    _unread = true;
                    return false;
                }

                if (_calls.TryRemove(id, out var answer))
                {
                    answer.TrySetException(id, new TrafficLinkException($"refused by {_link.Name}: {why}"));
                }

                return true;
            }

            throw new TrafficLinkException($"A link frame of kind {kind} from a gateway.");
        }

        private void Fail(string reason, bool neverSent = false)
        {
            _dead = true;
            foreach (var id in _calls.Keys)
            {
                if (_calls.TryRemove(id, out var answer))
                {
                    answer.TrySetException(id, new TrafficLinkException($"the link to {_link.Name} closed: {reason}") { NeverSent = neverSent });
                }
            }
        }
    }
}
