namespace AccessLayer.Sessions.Routing;

/// <summary>
/// The subscribers of one filter (or one share group): a dense array iterated by matching,
/// with a client-id index added once the set is large enough that linear search would show
/// (a broadcast filter with thousands of subscribers). Removal swaps the last entry in.
/// Not thread-safe: the router serialises writers and excludes them from readers.
/// </summary>
internal sealed class SubscriberSet
{
    private const int IndexThreshold = 8;

    private Entry[] _entries = new Entry[1];
    private int _count;
    private Dictionary<string, int>? _index;

    public int Count => _count;

    public ReadOnlySpan<Entry> Entries => _entries.AsSpan(0, _count);

    public ref readonly Entry this[int index] => ref _entries[index];

    /// <summary>Adds or replaces the options of <paramref name="clientId"/>; true when it was added.</summary>
    public bool Set(string clientId, in SubscriptionOptions options)
    {
        int at = IndexOf(clientId);
        if (at >= 0)
        {
            _entries[at] = new Entry(_entries[at].ClientId, options);
            return false;
        }

        if (_count == _entries.Length)
        {
            Array.Resize(ref _entries, _count * 2);
        }

        _entries[_count] = new Entry(clientId, options);
        if (_index is not null)
        {
            _index.Add(clientId, _count);
        }
        else if (_count + 1 > IndexThreshold)
        {
            _index = new Dictionary<string, int>(_count * 2, StringComparer.Ordinal);
            for (int i = 0; i <= _count; i++)
            {
                _index.Add(_entries[i].ClientId, i);
            }
        }

        _count++;
        return true;
    }

    public bool Remove(string clientId)
    {
        int at = IndexOf(clientId);
        if (at < 0)
        {
            return false;
        }

        int last = --_count;
        _index?.Remove(clientId);
        if (at != last)
        {
            _entries[at] = _entries[last];
            if (_index is not null)
            {
                _index[_entries[at].ClientId] = at;
            }
        }

        _entries[last] = default;
        return true;
    }

    private int IndexOf(string clientId)
    {
        if (_index is not null)
        {
            return _index.TryGetValue(clientId, out int at) ? at : -1;
        }

        for (int i = 0; i < _count; i++)
        {
            if (string.Equals(_entries[i].ClientId, clientId, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    internal readonly record struct Entry(string ClientId, SubscriptionOptions Options);
}
