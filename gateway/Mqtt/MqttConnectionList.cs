using System.Collections;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>
/// Every open MQTT connection of the broker, as an intrusive doubly-linked list through the
/// connections themselves: no node, no bucket and no connection-id string per connection (a
/// dictionary keyed by connection id cost ~110 B each), and enumerating it allocates nothing
/// (a dictionary's <c>Values</c> copied every connection under all its locks, once a second).
/// Add and remove take a lock; enumeration does not: it follows <c>next</c> links, which a removal
/// leaves intact, so an enumerator standing on a removed connection still reaches the rest.
/// Connections are only ever added at the head, so the links always lead to older connections and
/// enumeration ends. Like a concurrent dictionary's enumerator, it may or may not see connections
/// added or removed meanwhile.
/// </summary>
internal sealed class MqttConnectionList : IEnumerable<MqttConnection>
{
    private readonly Lock _lock = new();
    private MqttConnection? _head;
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Add(MqttConnection connection)
    {
        lock (_lock)
        {
            if (connection.ListState != MqttConnection.ListMembership.None)
            {
                return;
            }

            connection.ListState = MqttConnection.ListMembership.Listed;
            connection.ListPrevious = null;
            Volatile.Write(ref connection.ListNext, _head);
            if (_head is not null)
            {
                _head.ListPrevious = connection;
            }

            Volatile.Write(ref _head, connection);
            _count++;
        }
    }

    /// <summary>False when the connection is not (or no longer) listed.</summary>
    public bool Remove(MqttConnection connection)
    {
        lock (_lock)
        {
            if (connection.ListState != MqttConnection.ListMembership.Listed)
            {
                return false;
            }

            connection.ListState = MqttConnection.ListMembership.Removed;
            var previous = connection.ListPrevious;
            var next = connection.ListNext;
            if (previous is null)
            {
                Volatile.Write(ref _head, next);
            }
            else
            {
                Volatile.Write(ref previous.ListNext, next);
            }

            if (next is not null)
            {
                next.ListPrevious = previous;
            }

            // ListNext stays: an enumerator on this connection continues from it.
            connection.ListPrevious = null;
            _count--;
            return true;
        }
    }

    public Enumerator GetEnumerator() => new(Volatile.Read(ref _head));

    IEnumerator<MqttConnection> IEnumerable<MqttConnection>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public struct Enumerator : IEnumerator<MqttConnection>
    {
        private MqttConnection? _next;
        private MqttConnection? _current;

        internal Enumerator(MqttConnection? head) => _next = head;

        public readonly MqttConnection Current => _current!;

        readonly object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            // Skip connections removed since they were linked to.
            while (_next is { } candidate)
            {
                _next = Volatile.Read(ref candidate.ListNext);
                if (candidate.ListState == MqttConnection.ListMembership.Listed)
                {
                    _current = candidate;
                    return true;
                }
            }

            _current = null;
            return false;
        }

        public void Reset() => throw new NotSupportedException();

        public readonly void Dispose()
        {
        }
    }
}
