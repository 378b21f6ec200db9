using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using AccessLayer.Gateway.Tests.Conformance.Brokers;
using AccessLayer.Gateway.Tests.Conformance.Harness;

namespace AccessLayer.Gateway.Tests.Conformance.Clients;

/// <summary>
/// MQTTnet 5's clients, in the test process (a .NET library needs no agent process): the same
/// commands, results and events as <see cref="AgentHost"/>, each client a
/// <see cref="MqttNetConnection"/> on a real socket to the broker. Shared by the tests of one
/// broker fixture like an agent host; a test's clients are killed when it ends.
/// </summary>
internal sealed class MqttNetHost : IScriptedClientHost
{
    private readonly ConcurrentDictionary<string, MqttNetConnection> _connections = new();
    private readonly ConcurrentDictionary<string, ScriptedClient> _clients = new();
    private readonly Transcript _log = new(2_000);
    private int _nextHandle;

    public ScriptedClientKind Kind => ScriptedClientKind.MqttNet;

    public static MqttNetHost For(BrokerFixture broker) => broker.Shared($"agent-host:{ScriptedClientKind.MqttNet}", () => new MqttNetHost());

    public string NewHandle() => $"h{Interlocked.Increment(ref _nextHandle)}";

    public void Register(string handle, ScriptedClient client) => _clients[handle] = client;

    public void Unregister(string handle)
    {
        _clients.TryRemove(handle, out _);
        if (_connections.TryRemove(handle, out var connection)) connection.Dispose();
    }

    public async Task<JsonElement> CallAsync(string handle, string op, JsonObject command, TimeSpan timeout)
    {
        var connection = _connections.GetOrAdd(handle, h => new MqttNetConnection(e => Emit(h, e)));
        _log.Add($"{handle} {op}");
        JsonObject result;
        try
        {
            result = await connection.RunAsync(op, command).WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{handle}: no answer to {op} in {timeout.TotalSeconds:0.#} s");
        }
        _log.Add($"{handle} {op}: {result.ToJsonString()}");
        return JsonSerializer.SerializeToElement(result);
    }

    public string TranscriptTail(int lines = 30) => _log.Tail($"{Kind} host", lines);

    public ValueTask DisposeAsync()
    {
        foreach (var handle in _connections.Keys) Unregister(handle);
        return ValueTask.CompletedTask;
    }

    private void Emit(string handle, JsonObject e)
    {
        e["client"] = handle;
        if (_clients.TryGetValue(handle, out var client)) client.OnEvent(JsonSerializer.SerializeToElement(e));
    }
}
