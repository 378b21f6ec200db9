using System.Collections;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using AccessLayer.Gateway.Connections;
using AccessLayer.Gateway.Transport.Tls;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace AccessLayer.Gateway.Transport.Epoll;

/// <summary>
/// One accepted fd as a Kestrel <see cref="ConnectionContext"/>, served by an <see cref="EpollLoop"/>:
/// its own <see cref="IDuplexPipe"/>, its own tiny feature collection, and its own thread-pool work
/// item (running the connection pipeline). The fd is reference-counted around every syscall so an
/// abort on another thread can never let a recv/send hit a reused descriptor.
/// </summary>
internal sealed class EpollConnection : ConnectionContext, IDuplexPipe, IFeatureCollection, IEpollHandler, IThreadPoolWorkItem,
    IConnectionTransportFeature, IConnectionIdFeature, IConnectionItemsFeature, IConnectionEndPointFeature, IConnectionLifetimeFeature,
    IConnectionCompleteFeature, IRawSocketOptionsFeature, IConnectionSocketFeature, IParkedInputFeature
{
    private const int ClosedBit = int.MinValue;
    private static long s_lastId;

    private readonly EpollLoop _loop;
    private readonly EpollSocketReader _reader;
    private readonly EpollSocketWriter _writer;
    private readonly int _fd;
    private readonly long _id;
    // The TLS listeners' OpenSSL session over the fd (null on plain listeners): recv/send become SSL_read/SSL_write.
    private readonly TlsSession? _tls;

    // High bit: closed; low bits: syscalls in flight. The fd is closed when both say so.
    private int _fdState;
    // Detached: the application took the lifetime (IParkedInputFeature); Ending: the end has begun; Closed: the fd is being closed.
    private int _lifetime;
    private int _featureRevision;
    private FeatureSlot _feature;
    private Func<object, Task>? _onCompleted;
    private object? _onCompletedState;
    private RareState? _rare;
    private string? _connectionId;

    public EpollConnection(EpollLoop loop, int fd, TlsSession? tls = null)
    {
        _loop = loop;
        _fd = fd;
        _tls = tls;
        _id = Interlocked.Increment(ref s_lastId);
        _reader = new EpollSocketReader(this);
        _writer = new EpollSocketWriter(this);
    }

    public ulong EpollToken { get; set; }

    /// <summary>Whether bytes go through TLS: a short read no longer proves the socket drained (OpenSSL reads record by record).</summary>
    internal bool IsTls => _tls is not null;

    /// <summary>The TLS session, on a TLS listener.</summary>
    internal TlsSession? Tls => _tls;

    /// <summary>Why the connection was aborted; reads after an abort throw it.</summary>
    internal ConnectionAbortedException? AbortReason => _rare?.AbortReason;

    public override string ConnectionId
    {
        // The broker keys its connection table by this string, so every connection makes it anyway.
        get => _connectionId ??= "E" + _id.ToString("X", System.Globalization.CultureInfo.InvariantCulture);
        set => _connectionId = value;
    }

    public override IFeatureCollection Features => this;

    public override IDictionary<object, object?> Items
    {
        get => Rare.Items ??= new Dictionary<object, object?>();
        set => Rare.Items = value;
    }

    private EpollEngine Engine => _loop.Engine;

    /// <summary>Everything a connection rarely needs lives out of line, so an idle connection does not carry the fields.</summary>
    private RareState Rare
    {
        get
        {
            if (_rare is { } rare)
            {
                return rare;
            }

            var created = new RareState();
            return Interlocked.CompareExchange(ref _rare, created, null) ?? created;
        }
    }

    public override IDuplexPipe Transport
    {
        get => this;
        set => throw new NotSupportedException("The epoll transport's pipe cannot be replaced.");
    }

    public PipeReader Input => _reader;

    public PipeWriter Output => _writer;

    public override CancellationToken ConnectionClosed
    {
        get
        {
            var rare = Rare;
            if (rare.ClosedSource is { } existing)
            {
                return existing.Token;
            }

            var created = new CancellationTokenSource();
            if (Interlocked.CompareExchange(ref rare.ClosedSource, created, null) is { } raced)
            {
                created.Dispose();
                return raced.Token;
            }

            if (IsClosed)
            {
                created.Cancel();
            }

            return created.Token;
        }
        set => throw new NotSupportedException("The epoll transport owns its closed token.");
    }

    public override EndPoint? LocalEndPoint
    {
        get => WithFd(static fd => LinuxNative.LocalEndPoint(fd));
        set => throw new NotSupportedException("The epoll transport reads endpoints from its fd.");
    }

    public override EndPoint? RemoteEndPoint
    {
        get => WithFd(static fd => LinuxNative.RemoteEndPoint(fd));
        set => throw new NotSupportedException("The epoll transport reads endpoints from its fd.");
    }

    /// <summary>
    /// A <see cref="Socket"/> over the fd (not owning it), made only when someone asks (the admin API
    /// reading keepalive state); the data path never uses it.
    /// </summary>
    Socket IConnectionSocketFeature.Socket
    {
        get
        {
            var rare = Rare;
            if (rare.SocketView is { } existing)
            {
                return existing;
            }

            var view = new Socket(new SafeSocketHandle(_fd, ownsHandle: false));
            if (Interlocked.CompareExchange(ref rare.SocketView, view, null) is { } raced)
            {
                view.Dispose();
                return raced;
            }

            return view;
        }
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        Interlocked.CompareExchange(ref Rare.AbortReason, abortReason, null);
        Close();
    }

    public override void Abort() => Abort(new ConnectionAbortedException("The connection was aborted by the application."));

    public override ValueTask DisposeAsync()
    {
        Close();
        _reader.Complete();
        _writer.ReleaseBlocks();
        _tls?.Dispose();
        _rare?.ClosedSource?.Dispose();
        return base.DisposeAsync();
    }

    void IConnectionCompleteFeature.OnCompleted(Func<object, Task> callback, object state)
    {
        if (_onCompleted is null)
        {
            _onCompleted = callback;
            _onCompletedState = state;
            return;
        }

        (Rare.MoreOnCompleted ??= []).Add((callback, state));
    }

    void IRawSocketOptionsFeature.SetOption(int level, int name, int value)
    {
        var errno = TryAddRef() ? Release(LinuxNative.SetOption(_fd, level, name, value)) : LinuxNative.EBADF;
        if (errno != 0)
        {
            throw EpollErrors.Failed("setsockopt", errno);
        }
    }

    /// <summary>Loop thread.</summary>
    void IEpollHandler.OnEvents(uint events)
    {
        var inline = Engine.InlineContinuations;
        if (_tls is not null)
        {
            // OpenSSL may need to read to write (a handshake, a key update) or write to read: either edge wakes both.
            var hangup = (events & (LinuxNative.EpollRdHup | LinuxNative.EpollHup | LinuxNative.EpollErr)) != 0;
            _reader.OnReadable(inline, hangup);
            _writer.OnWritable(inline);
            return;
        }

        if ((events & (LinuxNative.EpollIn | LinuxNative.EpollRdHup | LinuxNative.EpollHup | LinuxNative.EpollErr)) != 0)
        {
            _reader.OnReadable(inline, hangup: (events & (LinuxNative.EpollRdHup | LinuxNative.EpollHup | LinuxNative.EpollErr)) != 0);
        }

        if ((events & (LinuxNative.EpollOut | LinuxNative.EpollHup | LinuxNative.EpollErr)) != 0)
        {
            _writer.OnWritable(inline);
        }
    }

    /// <summary>Runs the connection pipeline (thread pool, or the accept thread when inline).</summary>
    void IThreadPoolWorkItem.Execute()
    {
        Task pipeline;
        try
        {
            pipeline = Engine.Pipeline(this);
        }
        catch (Exception ex)
        {
            pipeline = Task.FromException(ex);
        }

        if ((Volatile.Read(ref _lifetime) & Detached) != 0)
        {
            // The application ends the connection through Complete; a failure after detaching would otherwise go unseen.
            if (pipeline.IsFaulted)
            {
                ((IParkedInputFeature)this).Complete(pipeline.Exception!.GetBaseException());
            }

            return;
        }

        if (pipeline.IsCompleted)
        {
            Complete(pipeline);
            return;
        }

        // Watched through the out-of-line state: a parked connection has no pipeline task to keep.
        Rare.Pipeline = pipeline;
        // One delegate per connection is the whole cost of watching its lifetime.
        pipeline.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(OnPipelineCompleted);
    }

    internal nint Receive(Span<byte> buffer, out int errno)
    {
        if (!TryAddRef())
        {
            errno = LinuxNative.EBADF;
            return -1;
        }

        try
        {
            unsafe
            {
                if (_tls is not null)
                {
                    return _tls.Read(buffer, out errno);
                }

                fixed (byte* p = buffer)
                {
                    var received = LinuxNative.Recv(_fd, p, (nuint)buffer.Length, 0);
                    errno = received < 0 ? LinuxNative.Errno : 0;
                    return received;
                }
            }
        }
        finally
        {
            Release();
        }
    }

    internal nint Send(ReadOnlySpan<byte> buffer, out int errno)
    {
        if (!TryAddRef())
        {
            errno = LinuxNative.EBADF;
            return -1;
        }

        try
        {
            unsafe
            {
                if (_tls is not null)
                {
                    return _tls.Write(buffer, Engine.Time.GetTimestamp(), out errno);
                }

                fixed (byte* p = buffer)
                {
                    var sent = LinuxNative.Send(_fd, p, (nuint)buffer.Length, LinuxNative.MsgNoSignal);
                    errno = sent < 0 ? LinuxNative.Errno : 0;
                    return sent;
                }
            }
        }
        finally
        {
            Release();
        }
    }

    /// <summary>FIN after the output completed; reads continue.</summary>
    internal void ShutdownSend()
    {
        if (TryAddRef())
        {
            _tls?.Shutdown();
            if (LinuxNative.Shutdown(_fd, LinuxNative.ShutWr) == 0)
            {
                Rare.FinSent = true;
            }

            Release();
        }
    }

    /// <summary>Lingering close (<see cref="GracefulClose.DiscardAsync"/>) once our FIN went out after a graceful output completion. The reader holds a block only while a read is being discarded.</summary>
    private Task LingerAsync() =>
        _rare is not { FinSent: true } || IsClosed || _reader.IsCompleted
            ? Task.CompletedTask
            : GracefulClose.DiscardAsync(_reader, Engine.Time);

    void IParkedInputFeature.Detach() => Interlocked.Or(ref _lifetime, Detached);

    bool IParkedInputFeature.TryPark(IInputReadyHandler handler) => _reader.TryPark(handler);

    void IParkedInputFeature.Complete(Exception? failure)
    {
        if ((Interlocked.Or(ref _lifetime, Ending) & Ending) == 0)
        {
            _ = OnPipelineCompletedAsync(failure);
        }
    }

    /// <summary>Whether the application detached and its reader is parked: the connection holds no pending read and no pipeline task.</summary>
    internal bool IsParked => (Volatile.Read(ref _lifetime) & (Detached | Ending)) == Detached && _reader.IsParked;

    private const int Detached = 1;
    private const int Ending = 2;
    private const int Closed = 4;

    private bool IsClosed => (Volatile.Read(ref _lifetime) & Closed) != 0;

    private void OnPipelineCompleted()
    {
        var rare = _rare!;
        var pipeline = rare.Pipeline!;
        rare.Pipeline = null;
        Complete(pipeline);
    }

    private void Complete(Task pipeline)
    {
        if ((Interlocked.Or(ref _lifetime, Ending) & Ending) == 0)
        {
            _ = OnPipelineCompletedAsync(pipeline.Exception?.GetBaseException());
        }
    }

    private async Task OnPipelineCompletedAsync(Exception? failure)
    {
        if (failure is not null)
        {
            Engine.OnPipelineFailed(this, failure);
        }

        try
        {
            if (_onCompleted is { } first)
            {
                await first(_onCompletedState!).ConfigureAwait(false);
                foreach (var (callback, state) in _rare?.MoreOnCompleted ?? [])
                {
                    await callback(state).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex)
        {
            Engine.OnPipelineFailed(this, ex);
        }
        finally
        {
            try
            {
                await LingerAsync().ConfigureAwait(false);
            }
            finally
            {
                await DisposeAsync().ConfigureAwait(false);
                Engine.OnConnectionEnded();
            }
        }
    }

    private void Close()
    {
        if ((Interlocked.Or(ref _lifetime, Closed) & Closed) != 0)
        {
            return;
        }

        _writer.OnClosed();
        if (TryAddRef())
        {
            LinuxNative.Shutdown(_fd, LinuxNative.ShutRdWr);
            Release();
        }

        _loop.Unregister(this);
        _rare?.SocketView?.Dispose();
        if ((Interlocked.Or(ref _fdState, ClosedBit) & ~ClosedBit) == 0)
        {
            LinuxNative.Close(_fd);
        }

        _reader.OnClosed();
        if (_rare?.ClosedSource is { } closed)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static source => CancelQuietly(source), closed, preferLocal: false);
        }
    }

    private bool TryAddRef()
    {
        while (true)
        {
            var state = Volatile.Read(ref _fdState);
            if (state < 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _fdState, state + 1, state) == state)
            {
                return true;
            }
        }
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _fdState) == ClosedBit)
        {
            // Closed while this syscall ran: the last one out closes the fd.
            LinuxNative.Close(_fd);
        }
    }

    private int Release(int result)
    {
        Release();
        return result;
    }

    private EndPoint? WithFd(Func<int, EndPoint?> read)
    {
        if (!TryAddRef())
        {
            return null;
        }

        try
        {
            return read(_fd);
        }
        finally
        {
            Release();
        }
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed with the connection before the callback ran: nobody is listening anymore.
        }
    }

    // IFeatureCollection: governance sets one feature per connection; one inline slot holds it
    // without the list and array a FeatureCollection allocates.
    bool IFeatureCollection.IsReadOnly => false;

    int IFeatureCollection.Revision => _featureRevision;

    object? IFeatureCollection.this[Type key]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(key);
            if (_feature.Key == key)
            {
                return _feature.Value;
            }

            return _rare?.MoreFeatures is { } more && more.TryGetValue(key, out var value) ? value : KnownFeature(key);
        }
        set
        {
            ArgumentNullException.ThrowIfNull(key);
            _featureRevision++;
            if (_feature.Key == key || (_feature.Key is null && value is not null))
            {
                _feature = value is null ? default : new FeatureSlot(key, value);
                return;
            }

            if (value is null)
            {
                _rare?.MoreFeatures?.Remove(key);
                return;
            }

            (Rare.MoreFeatures ??= [])[key] = value;
        }
    }

    TFeature? IFeatureCollection.Get<TFeature>() where TFeature : default => (TFeature?)((IFeatureCollection)this)[typeof(TFeature)];

    void IFeatureCollection.Set<TFeature>(TFeature? instance) where TFeature : default => ((IFeatureCollection)this)[typeof(TFeature)] = instance;

    IEnumerator<KeyValuePair<Type, object>> IEnumerable<KeyValuePair<Type, object>>.GetEnumerator()
    {
        if (_feature.Key is { } key)
        {
            yield return new KeyValuePair<Type, object>(key, _feature.Value!);
        }

        if (_rare?.MoreFeatures is { } more)
        {
            foreach (var pair in more)
            {
                yield return pair;
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable<KeyValuePair<Type, object>>)this).GetEnumerator();

    private object? KnownFeature(Type key)
    {
        if (_tls is not null && (key == typeof(ITlsConnectionFeature) || key == typeof(ITlsHandshakeFeature)))
        {
            return _tls;
        }

        if (key == typeof(ITlsEarlyDataFeature))
        {
            return _tls is { AcceptsEarlyData: true } ? _tls : null;
        }

        if (key == typeof(IConnectionTransportFeature) || key == typeof(IConnectionIdFeature) || key == typeof(IConnectionItemsFeature) || key == typeof(IConnectionEndPointFeature)
            || key == typeof(IConnectionLifetimeFeature) || key == typeof(IConnectionCompleteFeature) || key == typeof(IRawSocketOptionsFeature)
            || key == typeof(IParkedInputFeature))
        {
            return this;
        }

        // The socket view only while the fd is open; it is made on first use.
        return key == typeof(IConnectionSocketFeature) && !IsClosed ? this : null;
    }

    private readonly record struct FeatureSlot(Type? Key, object? Value);

    private sealed class RareState
    {
        public IDictionary<object, object?>? Items;
        public CancellationTokenSource? ClosedSource;
        public ConnectionAbortedException? AbortReason;
        public Dictionary<Type, object>? MoreFeatures;
        public List<(Func<object, Task> Callback, object State)>? MoreOnCompleted;
        public Socket? SocketView;

        // The pipeline's task while it runs, for a connection that did not detach (IParkedInputFeature).
        public Task? Pipeline;

        // Set once our FIN went out after a graceful output completion: the close lingers (LingerAsync).
        public bool FinSent;
    }
}
