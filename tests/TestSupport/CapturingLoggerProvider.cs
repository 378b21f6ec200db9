using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace AccessLayer.Tests.Shared;

/// <summary>One log line as a provider saw it: its event, message and the key/value pairs of every scope it was written in.</summary>
public sealed record CapturedLog(string Category, EventId EventId, LogLevel Level, string Message, IReadOnlyList<KeyValuePair<string, object?>> ScopeValues)
{
    public object? Scope(string key) => ScopeValues.LastOrDefault(kv => kv.Key == key).Value;
}

/// <summary>
/// A logger provider that keeps every line with its scopes, as a structured sink (JSON console, OTLP logs) would
/// see them: it takes the factory's scope provider, so scopes begun on any logger of the host are visible.
/// </summary>
public sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<CapturedLog> _lines = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyCollection<CapturedLog> Lines => _lines;

    /// <summary>Runs on the logging thread as each line is kept: a test acts at the moment the code under test reaches a line.</summary>
    public Action<CapturedLog>? OnLine { get; init; }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = new List<KeyValuePair<string, object?>>();
            provider._scopes.ForEachScope(static (scope, list) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                    list.AddRange(pairs);
            }, values);
            var line = new CapturedLog(category, eventId, logLevel, formatter(state, exception), values);
            provider._lines.Enqueue(line);
            provider.OnLine?.Invoke(line);
        }
    }
}
