using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace AccessLayer.Benchmarks.Telemetry;

/// <summary>
/// The gateway's former hand-written Prometheus exporter (gateway/Metrics/PrometheusExporter.cs until the
/// OpenTelemetry SDK took over <c>/metrics</c>), kept here unchanged as the baseline the SDK is measured against
/// (TelemetryBenchmarks, docs/benchmarks.md "Telemetry"). A MeterListener keeps running totals per
/// (instrument, tags); observable instruments are sampled at scrape time.
/// </summary>
internal sealed class HandWrittenPrometheusExporter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, InstrumentState> _instruments = new();
    private readonly Lock _scrapeLock = new();

    /// <param name="meterNames">Meters to serve.</param>
    /// <param name="scope">When set, only meters created by this factory (one host's): several hosts in one process stay apart.</param>
    public HandWrittenPrometheusExporter(IEnumerable<string> meterNames, IMeterFactory? scope = null)
    {
        var names = meterNames.ToHashSet(StringComparer.Ordinal);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (names.Contains(instrument.Meter.Name) && (scope is null || ReferenceEquals(instrument.Meter.Scope, scope)))
            {
                _instruments.TryAdd(instrument, new InstrumentState(instrument));
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!_instruments.TryGetValue(instrument, out var state))
        {
            return;
        }

        var series = tags.IsEmpty ? state.Untagged
            : tags.Length <= 2 ? state.FewTags.GetOrAdd(
                new TagPair(tags[0], tags.Length == 2 ? tags[1] : default),
                static (pair, all) => all.GetOrAdd(pair.Second.Key is null ? SeriesKey([pair.First]) : SeriesKey([pair.First, pair.Second]), static _ => new Series()),
                state.Series)
            : state.Series.GetOrAdd(SeriesKey(tags), static _ => new Series());
        if (instrument.IsObservable)
        {
            Volatile.Write(ref series.Value, value);
        }
        else
        {
            series.Add(value);
        }
    }

    private static string SeriesKey(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return string.Empty;
        }

        var sb = new StringBuilder();
        foreach (var tag in tags)
        {
            if (sb.Length > 0)
            {
                sb.Append(',');
            }

            sb.Append(Sanitize(tag.Key)).Append("=\"")
              .Append(Convert.ToString(tag.Value, CultureInfo.InvariantCulture)?.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal))
              .Append('"');
        }

        return sb.ToString();
    }

    public string Scrape()
    {
        lock (_scrapeLock)
        {
            _listener.RecordObservableInstruments();
            var sb = new StringBuilder(4096);
            foreach (var state in _instruments.Values.OrderBy(s => s.Instrument.Name, StringComparer.Ordinal))
            {
                var instrument = state.Instrument;
                var isCounter = instrument is Counter<long> or Counter<int> or Counter<double> or ObservableCounter<long> or ObservableCounter<int> or ObservableCounter<double>;
                var name = "accesslayer_" + Sanitize(instrument.Name) + (instrument.Unit == "By" ? "_bytes" : string.Empty) + (isCounter ? "_total" : string.Empty);
                if (!string.IsNullOrEmpty(instrument.Description))
                {
                    sb.Append("# HELP ").Append(name).Append(' ').Append(instrument.Description).Append('\n');
                }

                sb.Append("# TYPE ").Append(name).Append(isCounter ? " counter\n" : " gauge\n");
                if (state.Series.IsEmpty || Volatile.Read(ref state.Untagged.Value) != 0)
                {
                    sb.Append(name).Append(' ').Append(Volatile.Read(ref state.Untagged.Value).ToString("R", CultureInfo.InvariantCulture)).Append('\n');
                }

                foreach (var (labels, series) in state.Series.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    var value = Volatile.Read(ref series.Value);
                    sb.Append(name);
                    if (labels.Length > 0)
                    {
                        sb.Append('{').Append(labels).Append('}');
                    }

                    sb.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
                }
            }

            return sb.ToString();
        }
    }

    private static string Sanitize(string name)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (!char.IsAsciiLetterOrDigit(chars[i]))
            {
                chars[i] = '_';
            }
        }

        return new string(chars);
    }

    public void Dispose() => _listener.Dispose();

    private sealed class InstrumentState(Instrument instrument)
    {
        public Instrument Instrument { get; } = instrument;

        public Series Untagged { get; } = new();

        public ConcurrentDictionary<string, Series> Series { get; } = new(StringComparer.Ordinal);

        /// <summary>
        /// Most measurements carry one or two tags (a reason; a service and a status): found by the tags
        /// themselves so the hot path does not build the series key string. Entries share <see cref="Series"/>.
        /// </summary>
        public ConcurrentDictionary<TagPair, Series> FewTags { get; } = new();
    }

    /// <summary>One or two tags as a dictionary key (KeyValuePair has no equality of its own; the default comparer boxes and reflects).</summary>
    private readonly record struct TagPair(KeyValuePair<string, object?> First, KeyValuePair<string, object?> Second)
    {
        public bool Equals(TagPair other) => Same(First, other.First) && Same(Second, other.Second);

        public override int GetHashCode() => HashCode.Combine(First.Key, First.Value, Second.Key, Second.Value);

        private static bool Same(KeyValuePair<string, object?> x, KeyValuePair<string, object?> y) =>
            string.Equals(x.Key, y.Key, StringComparison.Ordinal) && Equals(x.Value, y.Value);
    }

    /// <summary>One time series' running value; adds are lock-free.</summary>
    private sealed class Series
    {
        public double Value;

        public void Add(double amount)
        {
            double seen, updated;
            do
            {
                seen = Volatile.Read(ref Value);
                updated = seen + amount;
            }
            while (Interlocked.CompareExchange(ref Value, updated, seen) != seen);
        }
    }
}
