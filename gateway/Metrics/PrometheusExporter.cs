using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace AccessLayer.Gateway.Metrics;

/// <summary>
/// Serves the gateway's meter in the Prometheus text format. A MeterListener keeps running
/// totals per (instrument, tags); observable instruments are sampled at scrape time.
/// The OpenTelemetry Prometheus exporter is still prerelease, so this small one stands in.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, InstrumentState> _instruments = new();
    private readonly Lock _scrapeLock = new();

    /// <param name="meterNames">Meters to serve.</param>
    /// <param name="scope">When set, only meters created by this factory (one host's): several hosts in one process stay apart.</param>
    public PrometheusExporter(IEnumerable<string> meterNames, IMeterFactory? scope = null)
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

        var key = SeriesKey(tags);
        var observed = instrument.IsObservable;
        state.Series.AddOrUpdate(key, value, (_, old) => observed ? value : old + value);
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
                if (state.Series.IsEmpty)
                {
                    sb.Append(name).Append(" 0\n");
                    continue;
                }

                foreach (var (labels, value) in state.Series.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
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

        public ConcurrentDictionary<string, double> Series { get; } = new(StringComparer.Ordinal);
    }
}
