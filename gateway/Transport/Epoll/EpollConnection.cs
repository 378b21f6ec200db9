using System.Collections;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
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
    IConnectionCompleteFeature, IRawSocketOptionsFeature, IConnectionSocketFeature
{
    private const int ClosedBit = int.MinValue;
    private static long s_lastId;

    private readonly EpollEngine _engine;
    private readonly EpollLoop _loop;
    private readonly EpollSocketReader _reader;
    private readonly EpollSocketWriter _writer;
    private readonly int _fd;
    private readonly long _id;

    // High bit: closed; low bits: syscalls in flight. The fd is closed when both say so.
    private int _fdState;
    private int _closed;
    private string? _connectionId;
    private IDictionary<object, object?>? _items;
    private CancellationTokenSource? _closedSource;
    private FeatureSlots _features;
    private Dictionary<Type, object>? _moreFeatures;
    private int _featureRevision;
    private Func<object, Task>? _onCompleted;
    private object? _onCompletedState;
    private List<(Func<object, Task> Callback, object State)>? _moreOnCompleted;
    private Socket? _socketView;
    private Task? _pipeline;

    public EpollConnection(EpollEngine engine, EpollLoop loop, int fd)
    {
        _engine = engine;
        _loop = loop;
        _fd = fd;
        _id = Interlocked.Increment(ref s_lastId);
        _reader = new EpollSocketReader(this);
        _writer = new EpollSocketWriter(this);
    }

    public ulong EpollToken { get; set; }

    /// <summary>Why the connection was aborted; reads after an abort throw it.</summary>
    internal ConnectionAbortedException? AbortReason { get; private set; }

    internal EpollLoop Loop => _loop;

    public override string ConnectionId
    {
        get => _connectionId ??= "E" + _id.ToString("X", System.Globalization.CultureInfo.InvariantCulture);
        set => _connectionId = value;
    }

    public override IFeatureCollection Features => this;

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new Dictionary<object, object?>();
        set => _items = value;
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
            if (_closedSource is { } existing)
            {
                return existing.Token;
            }

            var created = new CancellationTokenSource();
            if (Interlocked.CompareExchange(ref _closedSource, created, null) is { } raced)
            {
                created.Dispose();
                return raced.Token;
            }

            if (Volatile.Read(ref _closed) != 0)
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
            if (_socketView is { } existing)
            {
                return existing;
            }

            var view = new Socket(new SafeSocketHandle(_fd, ownsHandle: false));
            if (Interlocked.CompareExchange(ref _socketView, view, null) is { } raced)
            {
                view.Dispose();
                return raced;
            }

            return view;
        }
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        AbortReason ??= abortReason;
        Close();
    }

    public override void Abort() => Abort(new ConnectionAbortedException("The connection was aborted by the application."));

    public override ValueTask DisposeAsync()
    {
        Close();
        _reader.Complete();
        _writer.ReleaseBlocks();
        _closedSource?.Dispose();
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

        (_moreOnCompleted ??= []).Add((callback, state));
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
        var inline = _engine.InlineContinuations;
        if ((events & (LinuxNative.EpollIn | LinuxNative.EpollRdHup | LinuxNative.EpollHup | LinuxNative.EpollErr)) != 0)
        {
            _reader.OnReadable(inline);
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
            pipeline = _engine.Pipeline(this);
        }
        catch (Exception ex)
        {
            pipeline = Task.FromException(ex);
        }

        _pipeline = pipeline;
        if (pipeline.IsCompleted)
        {
            OnPipelineCompleted();
        }
        else
        {
            // One delegate per connection is the whole cost of watching its lifetime.
            pipeline.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(OnPipelineCompleted);
        }
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
            LinuxNative.Shutdown(_fd, LinuxNative.ShutWr);
            Release();
        }
    }

    private void OnPipelineCompleted() => _ = OnPipelineCompletedAsync(_pipeline!);

    private async Task OnPipelineCompletedAsync(Task pipeline)
    {
        _pipeline = null;
        if (pipeline.Exception is { } failure)
        {
            _engine.OnPipelineFailed(this, failure.GetBaseException());
        }

        try
        {
            if (_onCompleted is { } first)
            {
                await first(_onCompletedState!).ConfigureAwait(false);
                foreach (var (callback, state) in _moreOnCompleted ?? [])
                {
                    await callback(state).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex)
        {
            _engine.OnPipelineFailed(this, ex);
        }
        finally
        {
            await DisposeAsync().ConfigureAwait(false);
            _engine.OnConnectionEnded();
        }
    }

    private void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
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
        _socketView?.Dispose();
        if ((Interlocked.Or(ref _fdState, ClosedBit) & ~ClosedBit) == 0)
        {
            LinuxNative.Close(_fd);
        }

        _reader.OnClosed();
        if (_closedSource is { } closed)
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

    // IFeatureCollection: governance sets one feature per connection; two inline slots hold it
    // without the list and array a FeatureCollection allocates.
    bool IFeatureCollection.IsReadOnly => false;

    int IFeatureCollection.Revision => _featureRevision;

    object? IFeatureCollection.this[Type key]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(key);
            for (var i = 0; i < FeatureSlots.Length; i++)
            {
                if (_features[i].Key == key)
                {
                    return _features[i].Value;
                }
            }

            return _moreFeatures is not null && _moreFeatures.TryGetValue(key, out var more) ? more : KnownFeature(key);
        }
        set
        {
            ArgumentNullException.ThrowIfNull(key);
            _featureRevision++;
            if (value is null)
            {
                _moreFeatures?.Remove(key);
            }

            var free = -1;
            for (var i = 0; i < FeatureSlots.Length; i++)
            {
                if (_features[i].Key == key)
                {
                    _features[i] = value is null ? default : new FeatureSlot(key, value);
                    return;
                }

                if (free < 0 && _features[i].Key is null)
                {
                    free = i;
                }
            }

            if (value is null)
            {
                return;
            }

            if (free < 0)
            {
                (_moreFeatures ??= [])[key] = value;
                return;
            }

            _features[free] = new FeatureSlot(key, value);
        }
    }

    TFeature? IFeatureCollection.Get<TFeature>() where TFeature : default => (TFeature?)((IFeatureCollection)this)[typeof(TFeature)];

    void IFeatureCollection.Set<TFeature>(TFeature? instance) where TFeature : default => ((IFeatureCollection)this)[typeof(TFeature)] = instance;

    IEnumerator<KeyValuePair<Type, object>> IEnumerable<KeyValuePair<Type, object>>.GetEnumerator()
    {
        for (var i = 0; i < FeatureSlots.Length; i++)
        {
            if (_features[i].Key is { } key)
            {
                yield return new KeyValuePair<Type, object>(key, _features[i].Value!);
            }
        }

        if (_moreFeatures is not null)
        {
            foreach (var pair in _moreFeatures)
            {
                yield return pair;
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable<KeyValuePair<Type, object>>)this).GetEnumerator();

    private EpollConnection? KnownFeature(Type key)
    {
        if (key == typeof(IConnectionTransportFeature) || key == typeof(IConnectionIdFeature) || key == typeof(IConnectionItemsFeature) || key == typeof(IConnectionEndPointFeature)
            || key == typeof(IConnectionLifetimeFeature) || key == typeof(IConnectionCompleteFeature) || key == typeof(IRawSocketOptionsFeature))
        {
            return this;
        }

        // The socket view only while the fd is open; it is made on first use.
        return key == typeof(IConnectionSocketFeature) && Volatile.Read(ref _closed) == 0 ? this : null;
    }

    private readonly record struct FeatureSlot(Type? Key, object? Value);

    [InlineArray(Length)]
    private struct FeatureSlots
    {
        public const int Length = 2;
        private FeatureSlot _first;
    }
}
