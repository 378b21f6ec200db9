using System.Collections.Frozen;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// The traffic table in force on this node and the versions before it (for roll back). A candidate is parsed and checked
/// whole (<see cref="TrafficTableParser"/>), must name this node's site and carry a version above the one in force, and
/// then replaces it in one reference swap: a request reads <see cref="Current"/> once and sees one version from lookup
/// to forward. A refused candidate is logged with its line and counted; the table in force stays.
/// </summary>
internal sealed class TrafficTableStore
{
    private readonly TrafficOptions _options;
    private readonly TrafficMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly List<TrafficTableVersion> _history = [];
    private volatile TrafficTableVersion? _current;

    public TrafficTableStore(IOptions<TrafficOptions> options, TrafficMetrics metrics, ILogger<TrafficTableStore> logger, TimeProvider time)
    {
        _options = options.Value;
        _metrics = metrics;
        _logger = logger;
        _time = time;
    }

    /// <summary>A table file is configured: MLP calls for the table's services go through it.</summary>
    public bool IsEnabled => _options.IsEnabled;

    /// <summary>The version in force with this node's site in it; null before the first load (or without a table file).</summary>
    public TrafficTableVersion? Current => _current;

    /// <summary>Versions kept for roll back, newest first.</summary>
    public IReadOnlyList<TrafficTableVersion> History
    {
        get
        {
            lock (_gate)
            {
                return [.. Enumerable.Reverse(_history)];
            }
        }
    }

    /// <summary>Parses and checks <paramref name="text"/> as the next version, and what applying it would move; throws <see cref="TrafficTableException"/> naming the line of what is wrong.</summary>
    public (TrafficTable Table, TrafficSite Site, TrafficTableDiff? Diff) Validate(string text)
    {
        var table = TrafficTableParser.Parse(text);
        if (!table.Sites.TryGetValue(_options.Site ?? string.Empty, out var site))
        {
            throw new TrafficTableException($"the table has no site {_options.Site}, the site of this node (Traffic:Site)", 0);
        }

        var current = _current;
        if (current is not null && table.Version <= current.Table.Version)
        {
            throw new TrafficTableException($"version {table.Version} is not above the version in force ({current.Table.Version}); a new table needs a higher version", 0);
        }

        return (table, site, current is null ? null : TrafficTableDiff.Between(current.Table, table));
    }

    /// <summary>Applies <paramref name="text"/> when it passes <see cref="Validate"/>; otherwise logs and counts the refusal and keeps the table in force.</summary>
    public TrafficApplyResult Apply(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        lock (_gate)
        {
            if (_current is { } same && string.Equals(same.Text, text, StringComparison.Ordinal))
            {
                return new TrafficApplyResult(TrafficApplyStatus.Unchanged, same.Table.Version, null, null, 0);
            }

            TrafficTable table;
            TrafficSite site;
            TrafficTableDiff? diff;
            try
            {
                (table, site, diff) = Validate(text);
            }
            catch (TrafficTableException ex)
            {
                var version = _current?.Table.Version ?? 0;
                TrafficLog.Refused(_logger, source, version, ex.Message);
                _metrics.Refusals.Add(1, TrafficMetrics.Tag("source", source));
                return new TrafficApplyResult(TrafficApplyStatus.Refused, version, null, ex.Message, ex.Line);
            }

            if (_current is { } previous)
            {
                _history.Add(previous);
                if (_history.Count > _options.History)
                {
                    _history.RemoveAt(0);
                }
            }

            Install(new TrafficTableVersion(table, site, text, source, _time.GetUtcNow()), source);
            TrafficLog.Applied(_logger, table.Version, source, site.Name, diff?.ShardsMoved ?? 0, diff?.OverridesMoved.Count ?? 0,
                string.Join(", ", diff?.ZonesAdded ?? [.. table.Zones.Keys]), string.Join(", ", diff?.ZonesRemoved ?? []));
            return new TrafficApplyResult(TrafficApplyStatus.Applied, table.Version, diff, null, 0);
        }
    }

    /// <summary>Puts the previous version back in force (it is taken off the history); <see cref="TrafficApplyStatus.Refused"/> when there is none.</summary>
    public TrafficApplyResult Rollback()
    {
        lock (_gate)
        {
            var current = _current;
            if (current is null || _history.Count == 0)
            {
                return new TrafficApplyResult(TrafficApplyStatus.Refused, current?.Table.Version ?? 0, null, "no earlier version to roll back to", 0);
            }

            var previous = _history[^1];
            _history.RemoveAt(_history.Count - 1);
            Install(previous with { AppliedAt = _time.GetUtcNow() }, "rollback");
            TrafficLog.RolledBack(_logger, current.Table.Version, previous.Table.Version);
            return new TrafficApplyResult(TrafficApplyStatus.Applied, previous.Table.Version, TrafficTableDiff.Between(current.Table, previous.Table), null, 0);
        }
    }

    /// <summary>Reads the table file and applies it; a file that cannot be read is refused like a bad table.</summary>
    public TrafficApplyResult ApplyFile(string source)
    {
        string text;
        try
        {
            text = File.ReadAllText(_options.TableFile!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            var version = _current?.Table.Version ?? 0;
            TrafficLog.Refused(_logger, source, version, $"{_options.TableFile}: {ex.Message}");
            _metrics.Refusals.Add(1, TrafficMetrics.Tag("source", source));
            return new TrafficApplyResult(TrafficApplyStatus.Refused, version, null, ex.Message, 0);
        }

        return Apply(text, source);
    }

    private void Install(TrafficTableVersion version, string source)
    {
        _current = version;
        _metrics.SetVersion(version.Table.Version);
        _metrics.Applies.Add(1, TrafficMetrics.Tag("source", source));
    }
}

/// <summary>One applied version: the compiled table, this node's site in it, the text it came from, where from and when.</summary>
internal sealed record TrafficTableVersion(TrafficTable Table, TrafficSite Site, string Text, string Source, DateTimeOffset AppliedAt)
{
    /// <summary>The services some zone of the table has: calls for these go through the table, others by <c>Mlp:Routes</c>.</summary>
    public FrozenSet<string> Services { get; } = Table.Zones.Values.SelectMany(z => z.Services.Keys).ToFrozenSet(StringComparer.Ordinal);
}

internal enum TrafficApplyStatus
{
    Applied,
    Unchanged,
    Refused,
}

/// <summary>What an apply or roll back did: the version in force after it, what moved, or why it was refused (and the line, 0: none).</summary>
internal readonly record struct TrafficApplyResult(TrafficApplyStatus Status, long Version, TrafficTableDiff? Diff, string? Error, long Line);
