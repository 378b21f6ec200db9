using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Sessions.Routing;

/// <summary>
/// A caller-owned, reusable result buffer for <see cref="ISubscriptionRouter.MatchAsync"/>.
/// Keep one per publishing loop (it is not thread-safe); its arrays grow to the largest
/// fan-out seen and are reused, so steady-state matching allocates nothing.
/// </summary>
public sealed class SubscriberMatches
{
    // Below this many raw hits a linear scan finds a client's earlier hit faster than hashing.
    private const int LinearMergeLimit = 8;

    private Hit[] _hits = new Hit[16];
    private int _hitCount;
    private int[] _hitOwner = new int[16];
    private SubscriberMatch[] _matches = new SubscriberMatch[16];
    private int[] _idCounts = new int[16];
    private int _count;
    private uint[] _ids = new uint[16];
    private Dictionary<string, int>? _byClient;

    /// <summary>Number of deliveries.</summary>
    public int Count => _count;

    public ReadOnlySpan<SubscriberMatch> AsSpan() => _matches.AsSpan(0, _count);

    public ref readonly SubscriberMatch this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_count, nameof(index));
            return ref _matches[index];
        }
    }

    /// <summary>The subscription identifiers to put in the PUBLISH for <paramref name="match"/> (empty when none).</summary>
    public ReadOnlySpan<uint> GetSubscriptionIdentifiers(in SubscriberMatch match) => _ids.AsSpan(match.IdStart, match.IdCount);

    public void Clear()
    {
        Array.Clear(_hits, 0, _hitCount);
        Array.Clear(_matches, 0, _count);
        _hitCount = 0;
        _count = 0;
    }

    internal void AddHit(string clientId, in SubscriptionOptions options, string? shareGroup)
    {
        if (_hitCount == _hits.Length)
        {
            Array.Resize(ref _hits, _hitCount * 2);
        }

        _hits[_hitCount++] = new Hit(clientId, options, shareGroup);
    }

    /// <summary>Folds the raw hits collected by the trie into one delivery per client (plus one per share group).</summary>
    internal void Complete()
    {
        int hitCount = _hitCount;
        if (_hitOwner.Length < hitCount)
        {
            _hitOwner = new int[_hits.Length];
        }

        if (_matches.Length < hitCount)
        {
            _matches = new SubscriberMatch[_hits.Length];
            _idCounts = new int[_hits.Length];
        }

        bool hashed = hitCount > LinearMergeLimit;
        if (hashed)
        {
            _byClient ??= new Dictionary<string, int>(StringComparer.Ordinal);
        }

        int count = 0;
        int idTotal = 0;
        for (int i = 0; i < hitCount; i++)
        {
            ref readonly Hit hit = ref _hits[i];
            int owner = -1;
            if (hit.ShareGroup is null)
            {
                owner = hashed ? FindHashed(hit.ClientId, count) : FindLinear(hit.ClientId, count);
            }

            if (owner < 0)
            {
                owner = count++;
                _matches[owner] = new SubscriberMatch(hit.ClientId, hit.Options.MaximumQualityOfService, hit.Options.RetainAsPublished, hit.ShareGroup, 0, 0);
                _idCounts[owner] = 0;
            }
            else
            {
                ref readonly SubscriberMatch merged = ref _matches[owner];
                MqttQualityOfService qos = hit.Options.MaximumQualityOfService > merged.MaximumQualityOfService
                    ? hit.Options.MaximumQualityOfService
                    : merged.MaximumQualityOfService;
                _matches[owner] = new SubscriberMatch(merged.ClientId, qos, merged.RetainAsPublished | hit.Options.RetainAsPublished, null, 0, 0);
            }

            _hitOwner[i] = owner;
            if (hit.Options.SubscriptionIdentifier != 0)
            {
                _idCounts[owner]++;
                idTotal++;
            }
        }

        if (hashed)
        {
            _byClient!.Clear();
        }

        _count = count;
        if (idTotal == 0)
        {
            return;
        }

        // Lay each delivery's identifiers out contiguously: starts from a prefix sum, then fill.
        if (_ids.Length < idTotal)
        {
            _ids = new uint[Math.Max(idTotal, _ids.Length * 2)];
        }

        int start = 0;
        for (int m = 0; m < count; m++)
        {
            ref readonly SubscriberMatch match = ref _matches[m];
            _matches[m] = new SubscriberMatch(match.ClientId, match.MaximumQualityOfService, match.RetainAsPublished, match.ShareGroup, start, 0);
            start += _idCounts[m];
        }

        for (int i = 0; i < hitCount; i++)
        {
            uint id = _hits[i].Options.SubscriptionIdentifier;
            if (id == 0)
            {
                continue;
            }

            ref readonly SubscriberMatch match = ref _matches[_hitOwner[i]];
            _ids[match.IdStart + match.IdCount] = id;
            _matches[_hitOwner[i]] = new SubscriberMatch(match.ClientId, match.MaximumQualityOfService, match.RetainAsPublished, match.ShareGroup, match.IdStart, match.IdCount + 1);
        }
    }

    private int FindLinear(string clientId, int count)
    {
        for (int m = 0; m < count; m++)
        {
            ref readonly SubscriberMatch match = ref _matches[m];
            if (match.ShareGroup is null && string.Equals(match.ClientId, clientId, StringComparison.Ordinal))
            {
                return m;
            }
        }

        return -1;
    }

    private int FindHashed(string clientId, int count)
    {
        if (_byClient!.TryGetValue(clientId, out int at))
        {
            return at;
        }

        _byClient.Add(clientId, count);
        return -1;
    }

    private readonly record struct Hit(string ClientId, SubscriptionOptions Options, string? ShareGroup);
}
