namespace AccessLayer.Sessions.Topics;

/// <summary>
/// The children of a topic tree node, keyed by one topic level. Most nodes deep in a device
/// tree (<c>tenant/t/device/{id}/telemetry</c>) have exactly one child, so a single child is
/// kept inline and a dictionary is made only for the second one; lookups take a span so
/// matching never allocates a level string.
/// </summary>
/// <remarks>A mutable struct: keep it in a field and call it in place, never copy it.</remarks>
internal struct LevelMap<T>
    where T : class
{
    private string? _singleKey;
    private T? _single;
    private Dictionary<string, T>? _many;
    private Dictionary<string, T>.AlternateLookup<ReadOnlySpan<char>> _manyBySpan;

    public readonly int Count => _many?.Count ?? (_single is null ? 0 : 1);

    public readonly T? Get(ReadOnlySpan<char> key)
    {
        if (_many is not null)
        {
            return _manyBySpan.TryGetValue(key, out var value) ? value : null;
        }

        return _single is not null && key.SequenceEqual(_singleKey) ? _single : null;
    }

    /// <summary>Adds a child that <see cref="Get"/> just reported missing.</summary>
    public void Add(string key, T value)
    {
        if (_many is not null)
        {
            _many.Add(key, value);
            return;
        }

        if (_single is null)
        {
            _singleKey = key;
            _single = value;
            return;
        }

        _many = new Dictionary<string, T>(StringComparer.Ordinal) { [_singleKey!] = _single, [key] = value };
        _manyBySpan = _many.GetAlternateLookup<ReadOnlySpan<char>>();
        _singleKey = null;
        _single = null;
    }

    public bool Remove(ReadOnlySpan<char> key)
    {
        if (_many is not null)
        {
            if (!_manyBySpan.Remove(key))
            {
                return false;
            }

            if (_many.Count == 0)
            {
                _many = null;
                _manyBySpan = default;
            }

            return true;
        }

        if (_single is not null && key.SequenceEqual(_singleKey))
        {
            _single = null;
            _singleKey = null;
            return true;
        }

        return false;
    }

    public readonly Enumerator GetEnumerator() => new(_singleKey, _single, _many);

    public struct Enumerator
    {
        private readonly string? _singleKey;
        private readonly T? _single;
        private readonly bool _useMany;
        private Dictionary<string, T>.Enumerator _many;
        private bool _singleDone;

        internal Enumerator(string? singleKey, T? single, Dictionary<string, T>? many)
        {
            _singleKey = singleKey;
            _single = single;
            _useMany = many is not null;
            _many = many is null ? default : many.GetEnumerator();
            _singleDone = single is null;
            Current = default;
        }

        public KeyValuePair<string, T> Current { get; private set; }

        public bool MoveNext()
        {
            if (_useMany)
            {
                if (_many.MoveNext())
                {
                    Current = _many.Current;
                    return true;
                }

                return false;
            }

            if (_singleDone)
            {
                return false;
            }

            _singleDone = true;
            Current = new KeyValuePair<string, T>(_singleKey!, _single!);
            return true;
        }
    }
}
