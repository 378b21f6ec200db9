using System.Collections;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace AccessLayer.Gateway.Transport;

/// <summary>
/// One accepted socket as a Kestrel <see cref="ConnectionContext"/>: the connection is its own
/// <see cref="IDuplexPipe"/> and its own (tiny) feature collection, and everything optional
/// (id string, endpoints, items, the closed token) is created only when someone asks.
/// </summary>
internal sealed class LeanConnection : ConnectionContext, IDuplexPipe, IFeatureCollection,
    IConnectionTransportFeature, IConnectionIdFeature, IConnectionItemsFeature, IConnectionEndPointFeature, IConnectionLifetimeFeature
{
    private static long s_lastId;

    private readonly Socket _socket;
    private readonly LeanSocketReader _reader;
    private readonly LeanSocketWriter _writer;
    private readonly long _id;
    private string? _connectionId;
    private IDictionary<object, object?>? _items;
    private CancellationTokenSource? _closedSource;
    private FeatureSlots _features;
    private Dictionary<Type, object>? _moreFeatures;
    private int _featureRevision;
    private int _closed;

    public LeanConnection(Socket socket)
    {
        _socket = socket;
        _id = Interlocked.Increment(ref s_lastId);
        _reader = new LeanSocketReader(this, socket);
        _writer = new LeanSocketWriter(socket);
    }

    /// <summary>Why the connection was aborted; reads after an abort throw it.</summary>
    internal ConnectionAbortedException? AbortReason { get; private set; }

    public override string ConnectionId
    {
        get => _connectionId ??= "L" + _id.ToString("X", System.Globalization.CultureInfo.InvariantCulture);
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
        set => throw new NotSupportedException("The lean transport's pipe cannot be replaced.");
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
        set => throw new NotSupportedException("The lean transport owns its closed token.");
    }

    public override EndPoint? LocalEndPoint
    {
        get => Volatile.Read(ref _closed) == 0 ? TryGet(() => _socket.LocalEndPoint) : null;
        set => throw new NotSupportedException("The lean transport reads endpoints from its socket.");
    }

    public override EndPoint? RemoteEndPoint
    {
        get => Volatile.Read(ref _closed) == 0 ? TryGet(() => _socket.RemoteEndPoint) : null;
        set => throw new NotSupportedException("The lean transport reads endpoints from its socket.");
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

    private void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        _writer.OnClosed();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The peer is gone already; closing is all that is left.
        }

        _socket.Dispose();
        _reader.OnClosed();
        if (_closedSource is { } closed)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static source => CancelQuietly(source), closed, preferLocal: false);
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

    private static EndPoint? TryGet(Func<EndPoint?> read)
    {
        try
        {
            return read();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return null;
        }
    }

    // IFeatureCollection: Kestrel stores a handful of features per connection; a few inline slots
    // hold them without the list and array a FeatureCollection allocates.
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
                // More than Kestrel sets per connection: rare, so only then pay for a dictionary.
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

    private LeanConnection? KnownFeature(Type key) => key == typeof(IConnectionTransportFeature) || key == typeof(IConnectionIdFeature)
        || key == typeof(IConnectionItemsFeature) || key == typeof(IConnectionEndPointFeature) || key == typeof(IConnectionLifetimeFeature)
        ? this
        : null;

    private readonly record struct FeatureSlot(Type? Key, object? Value);

    [InlineArray(Length)]
    private struct FeatureSlots
    {
        public const int Length = 6;
        private FeatureSlot _first;
    }
}
