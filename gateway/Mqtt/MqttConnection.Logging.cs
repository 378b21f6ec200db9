namespace AccessLayer.Gateway.Mqtt;

/// <summary>
/// The connection is its own logger: a line that is really written gets its scope (<see cref="MqttLogScope"/>:
/// client id, node, connection id) made for that line. A scope object held per connection cost 40 B on every idle
/// connection for lines most connections never write.
/// </summary>
internal sealed partial class MqttConnection : ILogger
{
    IDisposable? ILogger.BeginScope<TState>(TState state) => _innerLogger.BeginScope(state);

    bool ILogger.IsEnabled(LogLevel logLevel) => _innerLogger.IsEnabled(logLevel);

    void ILogger.Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (_innerLogger.IsEnabled(logLevel))
        {
            new MqttLogScope(_innerLogger, this, _broker).Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
