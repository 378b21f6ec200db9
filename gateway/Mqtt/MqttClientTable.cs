namespace AccessLayer.Gateway.Mqtt;

/// <summary>
/// The broker's connected clients by client id, as a hash table chained through the connections themselves
/// (<see cref="MqttConnection.ClientTableNext"/>): no node per client (a concurrent dictionary's is 48 B, plus
/// its bucket). Writers take a lock. Lookups take none: they follow the links, which a removal leaves intact on
/// the removed connection, and a lookup that finds nothing while a writer changed the table (<c>_version</c>
/// moved, or is odd during a change) looks again, so a resize that relinks the chains never makes a present
/// client look absent. A client is keyed by <see cref="MqttConnection.ClientId"/>, set before it is added.
/// </summary>
internal sealed class MqttClientTable
{
    private const int InitialBuckets = 64;

    private readonly Lock _lock = new();
    private MqttConnection?[] _buckets = new MqttConnection?[InitialBuckets];
    private int _count;

    // Odd while a writer changes links; bumped twice per change.
    private int _version;

    public int Count => Volatile.Read(ref _count);

    /// <summary>The connection of <paramref name="clientId"/>, if connected.</summary>
    public bool TryGetValue(string clientId, out MqttConnection connection)
    {
        var hash = Hash(clientId);
        var spinner = default(SpinWait);
        while (true)
        {
            var version = Volatile.Read(ref _version);
            var buckets = Volatile.Read(ref _buckets);
            for (var node = Volatile.Read(ref buckets[hash & (buckets.Length - 1)]); node is not null; node = Volatile.Read(ref node.ClientTableNext))
            {
                if (string.Equals(node.ClientId, clientId, StringComparison.Ordinal))
                {
                    connection = node;
                    return true;
                }
            }

            if ((version & 1) == 0 && Volatile.Read(ref _version) == version)
            {
                connection = null!;
                return false;
            }

            // A writer relinked chains meanwhile: the miss proves nothing.
            spinner.SpinOnce();
        }
    }

    /// <summary>Adds <paramref name="connection"/> under its client id, replacing whichever connection had it.</summary>
    public MqttConnection this[string clientId]
    {
        set
        {
            if (!string.Equals(value.ClientId, clientId, StringComparison.Ordinal))
            {
                throw new InvalidOperationException("A connection is added under its own client id.");
            }

            lock (_lock)
            {
                BeginChange();
                Unlink(clientId, expected: null);
                if (_count >= _buckets.Length)
                {
                    Grow();
                }

                ref var head = ref _buckets[Hash(clientId) & (_buckets.Length - 1)];
                Volatile.Write(ref value.ClientTableNext, head);
                Volatile.Write(ref head, value);
                _count++;
                EndChange();
            }
        }
    }

    /// <summary>Removes the client only if <paramref name="entry"/>'s connection is still the one listed under its id.</summary>
    public bool TryRemove(KeyValuePair<string, MqttConnection> entry)
    {
        lock (_lock)
        {
            BeginChange();
            var removed = Unlink(entry.Key, entry.Value) is not null;
            EndChange();
            return removed;
        }
    }

    /// <summary>A snapshot of the connected clients.</summary>
    public List<MqttConnection> Values
    {
        get
        {
            lock (_lock)
            {
                var values = new List<MqttConnection>(_count);
                foreach (var head in _buckets)
                {
                    for (var node = head; node is not null; node = node.ClientTableNext)
                    {
                        values.Add(node);
                    }
                }

                return values;
            }
        }
    }

    private static int Hash(string clientId) => clientId.GetHashCode(StringComparison.Ordinal) & int.MaxValue;

    private void BeginChange() => Volatile.Write(ref _version, _version + 1);

    private void EndChange() => Volatile.Write(ref _version, _version + 1);

    /// <summary>Under the lock: unlinks the entry of <paramref name="clientId"/> (only if it is <paramref name="expected"/>, when given). Its own link stays, for lookups standing on it.</summary>
    private MqttConnection? Unlink(string clientId, MqttConnection? expected)
    {
        ref var link = ref _buckets[Hash(clientId) & (_buckets.Length - 1)];
        while (link is { } node)
        {
            if (string.Equals(node.ClientId, clientId, StringComparison.Ordinal))
            {
                if (expected is not null && !ReferenceEquals(node, expected))
                {
                    return null;
                }

                Volatile.Write(ref link, node.ClientTableNext);
                _count--;
                return node;
            }

            link = ref node.ClientTableNext;
        }

        return null;
    }

    /// <summary>Under the lock, inside a change: doubles the buckets and relinks every chain into them.</summary>
    private void Grow()
    {
        var grown = new MqttConnection?[_buckets.Length * 2];
        foreach (var head in _buckets)
        {
            var node = head;
            while (node is not null)
            {
                var next = node.ClientTableNext;
                ref var target = ref grown[Hash(node.ClientId!) & (grown.Length - 1)];
                Volatile.Write(ref node.ClientTableNext, target);
                target = node;
                node = next;
            }
        }

        Volatile.Write(ref _buckets, grown);
    }
}
