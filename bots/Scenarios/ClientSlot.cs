using AccessLayer.Bots.Client;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Bots.Scenarios;

/// <summary>
/// One client id of a run and the connection that carries it now. When that connection is lost the
/// <see cref="ClientFleet"/> connects the id again (to the next broker) and swaps the new connection in;
/// publishers and subscribers hold the slot, not the connection.
/// </summary>
public sealed class ClientSlot
{
    private readonly object _gate = new();
    private BotMqttClient _current;
    private TaskCompletionSource<BotMqttClient?> _next = NewWaiter();
    private bool _ended;

    internal ClientSlot(string clientId, int endpoint, BotMqttClient client)
    {
        ClientId = clientId;
        Endpoint = endpoint;
        _current = client;
    }

    public string ClientId { get; }

    /// <summary>Index of the broker (in the run's list) the current connection goes to.</summary>
    public int Endpoint { get; private set; }

    public BotMqttClient Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    /// <summary>The subscription renewed on every reconnect, once <see cref="SubscribeAsync"/> was called.</summary>
    internal (string Filter, MqttQualityOfService Qos)? Subscription { get; private set; }

    /// <summary>Subscribes the current connection, and every later one of this client id.</summary>
    public Task<bool> SubscribeAsync(string topicFilter, MqttQualityOfService qos, CancellationToken cancellationToken)
    {
        Subscription = (topicFilter, qos);
        return Current.SubscribeAsync(topicFilter, qos, cancellationToken);
    }

    /// <summary>
    /// The connection that replaced <paramref name="lost"/>, once there is one; null when none will come
    /// (reconnects off, the fleet closing) or <paramref name="cancellationToken"/> fires first.
    /// </summary>
    public async Task<BotMqttClient?> ReplacementAsync(BotMqttClient lost, CancellationToken cancellationToken)
    {
        Task<BotMqttClient?> next;
        lock (_gate)
        {
            if (_current != lost)
            {
                return _current;
            }

            if (_ended)
            {
                return null;
            }

            next = _next.Task;
        }

        try
        {
            return await next.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    internal void Replace(BotMqttClient client, int endpoint)
    {
        TaskCompletionSource<BotMqttClient?> waiters;
        lock (_gate)
        {
            _current = client;
            Endpoint = endpoint;
            waiters = _next;
            _next = NewWaiter();
        }

        waiters.TrySetResult(client);
    }

    /// <summary>No replacement will come: waiters get null.</summary>
    internal void End()
    {
        TaskCompletionSource<BotMqttClient?> waiters;
        lock (_gate)
        {
            _ended = true;
            waiters = _next;
        }

        waiters.TrySetResult(null);
    }

    private static TaskCompletionSource<BotMqttClient?> NewWaiter() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
