using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace AccessLayer.Gateway.Tests.Infrastructure;

/// <summary>Keeps every event logged through it, for tests that check a failure was logged, not swallowed.</summary>
internal sealed class RecordingLogger : ILogger
{
    public ConcurrentQueue<(EventId Id, LogLevel Level, string Message, Exception? Exception)> Events { get; } = new();

    public bool Logged(int eventId) => Events.Any(e => e.Id.Id == eventId);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Events.Enqueue((eventId, logLevel, formatter(state, exception), exception));
}
