namespace AccessLayer.Sessions.Store;

/// <summary>An entry of a <see cref="ChainedTable{T}"/>: it carries its own key and chain link, so the table needs no node for it.</summary>
internal interface IChained<T>
    where T : class, IChained<T>
{
    /// <summary>The key; fixed while the entry is in a table.</summary>
    string ChainKey { get; }

    /// <summary>The entry's chain link, owned by the table it is in.</summary>
    ref T? ChainNext { get; }
}

/// <summary>
/// A hash table by ordinal string key chained through its entries (<see cref="IChained{T}"/>): no node per entry
/// (a concurrent dictionary's is 48 B, plus its bucket), for maps that hold one entry per connection. Writers take a
/// lock. Lookups take none: they follow the links, which a removal leaves intact on the removed entry, and a lookup
/// that finds nothing while a writer changed the table (<c>_version</c> moved, or is odd during a change) looks
/// again, so a resize relinking the chains never makes a present entry look absent. An entry is in one table at
/// a time (its link belongs to that table).
/// </summary>
internal class ChainedTable<T>
    where T : class, IChained<T>
{
    private const int InitialBuckets = 64;

    private readonly Lock _lock = new();
    private T?[] _buckets = new T?[InitialBuckets];
    private int _count;

    // Odd while a writer changes links; bumped twice per change.
    private int _version;

    public int Count => Volatile.Read(ref _count);

    /// <summary>The entry of <paramref name="key"/>, if present.</summary>
    public bool TryGetValue(string key, out T value)
    {
        int hash = Hash(key);
        var spinner = default(SpinWait);
        while (true)
        {
            int version = Volatile.Read(ref _version);
            T?[] buckets = Volatile.Read(ref _buckets);
            for (T? node = Volatile.Read(ref buckets[hash & (buckets.Length - 1)]); node is not null; node = Volatile.Read(ref node.ChainNext))
            {
                if (string.Equals(node.ChainKey, key, StringComparison.Ordinal))
                {
                    value = node;
                    return true;
                }
            }

            if ((version & 1) == 0 && Volatile.Read(ref _version) == version)
            {
                value = null!;
                return false;
            }

            // A writer relinked chains meanwhile: the miss proves nothing.
            spinner.SpinOnce();
        }
    }

    /// <summary>The entry under <paramref name="value"/>'s key: the one present, or <paramref name="value"/> added.</summary>
    public T GetOrAdd(T value)
    {
        lock (_lock)
        {
            if (Find(value.ChainKey) is { } present)
            {
                return present;
            }

            BeginChange();
            Push(value);
            EndChange();
            return value;
        }
    }

    /// <summary>Adds <paramref name="value"/> under its key, replacing the entry that had it.</summary>
    public void Set(T value)
    {
        lock (_lock)
        {
            BeginChange();
            Unlink(value.ChainKey, expected: null);
            Push(value);
            EndChange();
        }
    }

    /// <summary>Removes <paramref name="expected"/> only if it is still the entry under its key.</summary>
    public bool TryRemove(T expected)
    {
        lock (_lock)
        {
            BeginChange();
            bool removed = Unlink(expected.ChainKey, expected) is not null;
            EndChange();
            return removed;
        }
    }

    /// <summary>A snapshot of the entries.</summary>
    public List<T> Values
    {
        get
        {
            lock (_lock)
            {
                var values = new List<T>(_count);
                foreach (T? head in _buckets)
                {
                    for (T? node = head; node is not null; node = node.ChainNext)
                    {
                        values.Add(node);
                    }
                }

                return values;
            }
        }
    }

    private static int Hash(string key) => key.GetHashCode(StringComparison.Ordinal) & int.MaxValue;

    // A full fence: the odd version is visible before any link the change writes.
    private void BeginChange() => Interlocked.Increment(ref _version);

    // A release: every link the change wrote is visible before the even version.
    private void EndChange() => Volatile.Write(ref _version, _version + 1);

    private T? Find(string key)
    {
        for (T? node = _buckets[Hash(key) & (_buckets.Length - 1)]; node is not null; node = node.ChainNext)
        {
            if (string.Equals(node.ChainKey, key, StringComparison.Ordinal))
            {
                return node;
            }
        }

        return null;
    }

    /// <summary>Under the lock, inside a change.</summary>
    private void Push(T value)
    {
        if (_count >= _buckets.Length)
        {
            Grow();
        }

        ref T? head = ref _buckets[Hash(value.ChainKey) & (_buckets.Length - 1)];
        Volatile.Write(ref value.ChainNext, head);
        Volatile.Write(ref head, value);
        _count++;
    }

    /// <summary>Under the lock, inside a change: unlinks the entry of <paramref name="key"/> (only if it is <paramref name="expected"/>, when given). Its own link stays, for lookups standing on it.</summary>
    private T? Unlink(string key, T? expected)
    {
        ref T? link = ref _buckets[Hash(key) & (_buckets.Length - 1)];
        while (link is { } node)
        {
            if (string.Equals(node.ChainKey, key, StringComparison.Ordinal))
            {
                if (expected is not null && !ReferenceEquals(node, expected))
                {
                    return null;
                }

                Volatile.Write(ref link, node.ChainNext);
                _count--;
                return node;
            }

            link = ref node.ChainNext;
        }

        return null;
    }

    /// <summary>Under the lock, inside a change: doubles the buckets and relinks every chain into them.</summary>
    private void Grow()
    {
        var grown = new T?[_buckets.Length * 2];
        foreach (T? head in _buckets)
        {
            T? node = head;
            while (node is not null)
            {
                T? next = node.ChainNext;
                ref T? target = ref grown[Hash(node.ChainKey) & (grown.Length - 1)];
                Volatile.Write(ref node.ChainNext, target);
                target = node;
                node = next;
            }
        }

        Volatile.Write(ref _buckets, grown);
    }
}
