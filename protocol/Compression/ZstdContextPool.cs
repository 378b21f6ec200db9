using System.Runtime.InteropServices;

namespace AccessLayer.Protocol.Compression;

/// <summary>
/// A lock-free bounded pool of native contexts. Creating a context costs hundreds of KB of
/// native workspace, so contexts are reused; the pool never grows past its capacity and a
/// context returned to a full pool is freed.
/// </summary>
internal sealed class ZstdContextPool<THandle> : IDisposable
    where THandle : SafeHandle
{
    private readonly THandle?[] _items;
    private readonly Func<THandle> _factory;

    public ZstdContextPool(int capacity, Func<THandle> factory)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _items = new THandle?[capacity];
        _factory = factory;
    }

    public THandle Rent()
    {
        var items = _items;
        for (var i = 0; i < items.Length; i++)
        {
            var item = Volatile.Read(ref items[i]);
            if (item is not null && Interlocked.CompareExchange(ref items[i], null, item) == item)
                return item;
        }

        var created = _factory();
        if (created.IsInvalid)
        {
            created.Dispose();
            throw new ZstdException(ZstdErrorKind.NativeError, "libzstd could not allocate a context.");
        }

        return created;
    }

    public void Return(THandle item)
    {
        var items = _items;
        for (var i = 0; i < items.Length; i++)
        {
            if (Interlocked.CompareExchange(ref items[i], item, null) is null)
                return;
        }

        item.Dispose();
    }

    public void Dispose()
    {
        for (var i = 0; i < _items.Length; i++)
            Interlocked.Exchange(ref _items[i], null)?.Dispose();
    }
}
