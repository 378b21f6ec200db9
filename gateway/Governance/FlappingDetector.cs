using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Governance;

/// <summary>
/// Flapping detection, as EMQX does it: a client id that CONNECTs more than
/// <c>Limits:FlappingMaxConnects</c> times within <c>Limits:FlappingWindow</c> is banned for
/// <c>Limits:FlappingBanDuration</c>. State per client id lives only while its window or ban
/// does; the maintenance sweep forgets the rest.
/// </summary>
internal sealed class FlappingDetector(IOptions<LimitsOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly LimitsOptions _options = options.Value;

    public bool IsEnabled => _options.FlappingMaxConnects > 0;

    public int TrackedCount => _entries.Count;

    /// <summary>Records one CONNECT; returns the remaining ban when the client is (now) banned, else null. <paramref name="newlyBanned"/> is true when this CONNECT started the ban.</summary>
    public TimeSpan? Record(string clientId, out bool newlyBanned)
    {
        newlyBanned = false;
        if (!IsEnabled)
        {
            return null;
        }

        var now = time.GetTimestamp();
        var entry = _entries.GetOrAdd(clientId, static (_, now) => new Entry(now), now);
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

    /// <summary>Client ids banned now, with the time their ban has left.</summary>
    public IReadOnlyList<(string ClientId, TimeSpan Remaining)> Bans()
    {
        var now = time.GetTimestamp();
        var bans = new List<(string, TimeSpan)>();
        foreach (var (clientId, entry) in _entries)
        {
            lock (entry)
            {
                if (entry.BannedAt != 0 && time.GetElapsedTime(entry.BannedAt, now) is var banned && banned < _options.FlappingBanDuration)
                {
                    bans.Add((clientId, _options.FlappingBanDuration - banned));
                }
            }
        }

        return bans;
    }

    public bool Unban(string clientId) => _entries.TryRemove(clientId, out _);

    /// <summary>Forgets client ids whose window and ban are both over.</summary>
    public void Sweep()
    {
        var now = time.GetTimestamp();
        foreach (var (clientId, entry) in _entries)
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
                _entries.TryRemove(new KeyValuePair<string, Entry>(clientId, entry));
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
