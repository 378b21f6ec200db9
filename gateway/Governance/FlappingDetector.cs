using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Governance;

/// <summary>
/// Flapping detection, as EMQX does it (and, like EMQX, off by default): a client that CONNECTs more
/// than <c>Limits:FlappingMaxConnects</c> times within <c>Limits:FlappingWindow</c> is banned for
/// <c>Limits:FlappingBanDuration</c>. A client is its client id <em>and</em> source address, and only
/// CONNECTs that passed authentication are counted: nobody can get someone else's client id banned
/// by connecting with it from elsewhere, or without its credentials. State per client lives only
/// while its window or ban does; the maintenance sweep forgets the rest.
/// </summary>
internal sealed class FlappingDetector(IOptions<LimitsOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<(string ClientId, string Address), Entry> _entries = new();
    private readonly LimitsOptions _options = options.Value;

    public bool IsEnabled => _options.FlappingMaxConnects > 0;

    public int TrackedCount => _entries.Count;

    /// <summary>The ban <paramref name="clientId"/> from <paramref name="address"/> is under, if any; counts nothing.</summary>
    public TimeSpan? BannedFor(string clientId, string address)
    {
        if (!IsEnabled || !_entries.TryGetValue((clientId, address), out var entry))
        {
            return null;
        }

        var now = time.GetTimestamp();
        lock (entry)
        {
            return entry.BannedAt != 0 && time.GetElapsedTime(entry.BannedAt, now) is var banned && banned < _options.FlappingBanDuration
                ? _options.FlappingBanDuration - banned
                : null;
        }
    }

    /// <summary>Records one authenticated CONNECT; returns the remaining ban when the client is (now) banned, else null. <paramref name="newlyBanned"/> is true when this CONNECT started the ban.</summary>
    public TimeSpan? Record(string clientId, string address, out bool newlyBanned)
    {
        newlyBanned = false;
        if (!IsEnabled)
        {
            return null;
        }

        var now = time.GetTimestamp();
        var entry = _entries.GetOrAdd((clientId, address), static (_, now) => new Entry(now), now);
        lock (entry)
        {
            if (entry.BannedAt != 0)
            {
                var banned = time.GetElapsedTime(entry.BannedAt, now);
                if (banned < _options.FlappingBanDuration)
                {
                    return _options.FlappingBanDuration - banned;
                }

                entry.BannedAt = 0;
                entry.WindowStart = now;
                entry.Count = 0;
            }

            if (time.GetElapsedTime(entry.WindowStart, now) > _options.FlappingWindow)
            {
                entry.WindowStart = now;
                entry.Count = 0;
            }

            entry.Count++;
            if (entry.Count > _options.FlappingMaxConnects)
            {
                entry.BannedAt = now;
                newlyBanned = true;
                return _options.FlappingBanDuration;
            }

            return null;
        }
    }

    /// <summary>Clients banned now (client id and source address), with the time their ban has left.</summary>
    public IReadOnlyList<(string ClientId, string Address, TimeSpan Remaining)> Bans()
    {
        var now = time.GetTimestamp();
        var bans = new List<(string, string, TimeSpan)>();
        foreach (var (key, entry) in _entries)
        {
            lock (entry)
            {
                if (entry.BannedAt != 0 && time.GetElapsedTime(entry.BannedAt, now) is var banned && banned < _options.FlappingBanDuration)
                {
                    bans.Add((key.ClientId, key.Address, _options.FlappingBanDuration - banned));
                }
            }
        }

        return bans;
    }

    /// <summary>Lifts the bans (and forgets the counts) of <paramref name="clientId"/> from every address; false when there were none.</summary>
    public bool Unban(string clientId)
    {
        var any = false;
        foreach (var key in _entries.Keys)
        {
            if (string.Equals(key.ClientId, clientId, StringComparison.Ordinal))
            {
                any |= _entries.TryRemove(key, out _);
            }
        }

        return any;
    }

    /// <summary>Forgets clients whose window and ban are both over.</summary>
    public void Sweep()
    {
        var now = time.GetTimestamp();
        foreach (var (key, entry) in _entries)
        {
            bool stale;
            lock (entry)
            {
                stale = entry.BannedAt == 0
                    ? time.GetElapsedTime(entry.WindowStart, now) > _options.FlappingWindow
                    : time.GetElapsedTime(entry.BannedAt, now) >= _options.FlappingBanDuration;
            }

            if (stale)
            {
                _entries.TryRemove(new KeyValuePair<(string, string), Entry>(key, entry));
            }
        }
    }

    private sealed class Entry(long now)
    {
        public long WindowStart = now;
        public int Count;
        public long BannedAt;
    }
}
