using System.Text.Json;
using System.Text.Json.Nodes;
using AccessLayer.Gateway.Tests.Conformance.Brokers;
using AccessLayer.Gateway.Tests.Conformance.Harness;

namespace AccessLayer.Gateway.Tests.Conformance.Clients;

/// <summary>
/// One client of a real MQTT library, living in the library's <see cref="IScriptedClientHost"/>: commands
/// go out as JSON lines, results and events (message, serverDisconnect, closed) come back.
/// </summary>
internal sealed class ScriptedClient : IPeer
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly IScriptedClientHost _host;
    private readonly BrokerFixture _broker;
    private readonly string _handle;
    private readonly Transcript _transcript = new(2_000);
    private readonly EventLog<ReceivedMessage> _messages = new();
    private readonly EventLog<int> _serverDisconnects = new();
    private readonly EventLog<int> _arrivals = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ScriptedClient(IScriptedClientHost host, BrokerFixture broker, string name)
    {
        _host = host;
        _broker = broker;
        _handle = host.NewHandle();
        Name = $"{name} ({host.Kind} {_handle})";
        host.Register(_handle, this);
    }

    public string Name { get; }

    public IReadOnlyList<ReceivedMessage> Messages => _messages.Snapshot();

    /// <summary>Reason codes of DISCONNECT packets the server sent this client.</summary>
    public IReadOnlyList<int> ServerDisconnects => _serverDisconnects.Snapshot();

    public bool IsClosed => _closed.Task.IsCompleted;

    /// <summary>QoS 1/2 PUBLISH packets received (packet ids), before the application sees them.</summary>
    public IReadOnlyList<int> Arrivals => _arrivals.Snapshot();

    public static ScriptedClient Create(ScriptedClientKind kind, BrokerFixture broker, ProcessGroup group, string name) =>
        group.Add(new ScriptedClient(
            kind == ScriptedClientKind.MqttNet ? MqttNetHost.For(broker) : AgentHost.For(kind, broker), broker, name));

    public async Task<ConnAck> ConnectAsync(ConnectOptions options)
    {
        var command = JsonSerializer.SerializeToNode(options, Json)!.AsObject();
        command["host"] = _broker.Host;
        command["port"] = _broker.MqttPort;
        var r = await CallAsync("connect", command);
        var props = r.TryGetProperty("props", out var p) ? p : default;
        return new ConnAck(
            r.GetProperty("reasonCode").GetInt32(),
            r.GetProperty("sessionPresent").GetBoolean(),
            OptionalInt(props, "topicAliasMaximum"),
            OptionalInt(props, "receiveMaximum"),
            props.ValueKind == JsonValueKind.Object && props.TryGetProperty("maximumPacketSize", out var m) ? m.GetInt64() : null);
    }

    /// <summary>Subscribes and returns the SUBACK's granted QoS / reason codes.</summary>
    public async Task<IReadOnlyList<int>> SubscribeAsync(string filter, int qos = 0, SubscribeOptions? options = null)
    {
        var command = options is null ? new JsonObject() : JsonSerializer.SerializeToNode(options, Json)!.AsObject();
        command["filter"] = filter;
        command["qos"] = qos;
        var r = await CallAsync("subscribe", command);
        return [.. r.GetProperty("reasonCodes").EnumerateArray().Select(c => c.GetInt32())];
    }

    /// <summary>Unsubscribes; returns the UNSUBACK's reason codes where the library reports them (MQTTnet, 5.0), else none.</summary>
    public async Task<IReadOnlyList<int>> UnsubscribeAsync(string filter)
    {
        var r = await CallAsync("unsubscribe", new JsonObject { ["filter"] = filter });
        return r.TryGetProperty("reasonCodes", out var codes) ? [.. codes.EnumerateArray().Select(c => c.GetInt32())] : [];
    }

    /// <summary>
    /// Publishes and returns when the QoS flow completed (QoS 0: handed to the socket). With
    /// <paramref name="count"/>, publishes that many messages, payload + index, in order.
    /// Returns the reason code of the last PUBACK / PUBREC where the library reports it (MQTTnet).
    /// </summary>
    public async Task<int?> PublishAsync(string topic, string payload, int qos = 0, bool retain = false, PublishProperties? properties = null, int? count = null)
    {
        var command = new JsonObject { ["topic"] = topic, ["payload"] = payload, ["qos"] = qos, ["retain"] = retain };
        if (properties is not null) command["props"] = JsonSerializer.SerializeToNode(properties, Json);
        if (count is not null) command["count"] = count;
        return OptionalInt(await CallAsync("publish", command), "reasonCode");
    }

    /// <summary>
    /// From now on the client withholds these acknowledgements of messages it receives
    /// ("puback", "pubrec", "pubcomp"; by default PUBACK and PUBREC).
    /// </summary>
    public Task HoldAcksAsync(params string[] kinds) =>
        CallAsync("holdAcks", kinds.Length == 0 ? [] : new JsonObject { ["kinds"] = new JsonArray([.. kinds.Select(k => JsonValue.Create(k))]) });

    /// <summary>Sends the withheld acknowledgements and stops withholding; returns how many.</summary>
    public async Task<int> ReleaseAcksAsync() => (await CallAsync("releaseAcks", [])).GetProperty("released").GetInt32();

    /// <summary>Sends DISCONNECT (5.0: with this reason code) and waits for the connection to close.</summary>
    public Task DisconnectAsync(int reasonCode = 0, long? sessionExpiry = null)
    {
        var command = new JsonObject { ["reasonCode"] = reasonCode };
        if (sessionExpiry is not null) command["sessionExpiry"] = sessionExpiry;
        return CallAsync("disconnect", command);
    }

    /// <summary>Closes the socket without DISCONNECT, as a client that died, and waits until it is closed.</summary>
    public Task KillAsync() => CallAsync("kill", []);

    public Task<IReadOnlyList<ReceivedMessage>> WaitForMessagesAsync(Func<IReadOnlyList<ReceivedMessage>, bool> done, string what, TimeSpan? timeout = null) =>
        _messages.WaitUntilAsync(done, timeout ?? Budget.Wait, () => $"{Name}: {what}; got [{string.Join(", ", Messages)}]{Environment.NewLine}{_transcript.Tail(Name)}");

    /// <summary>Waits for a message with this payload; returns every message up to and including it.</summary>
    public async Task<IReadOnlyList<ReceivedMessage>> WaitForPayloadAsync(string payload, TimeSpan? timeout = null)
    {
        var all = await WaitForMessagesAsync(m => m.Any(x => x.Payload == payload), $"a message '{payload}'", timeout);
        return [.. all.Take(all.ToList().FindIndex(x => x.Payload == payload) + 1)];
    }

    public Task<IReadOnlyList<ReceivedMessage>> WaitForCountAsync(int count, TimeSpan? timeout = null) =>
        WaitForMessagesAsync(m => m.Count >= count, $"{count} messages", timeout);

    /// <summary>Waits until this many QoS 1/2 PUBLISH packets arrived.</summary>
    public Task<IReadOnlyList<int>> WaitForArrivalsAsync(int count, TimeSpan? timeout = null) =>
        _arrivals.WaitUntilAsync(a => a.Count >= count, timeout ?? Budget.Wait,
            () => $"{Name}: {count} QoS 1/2 PUBLISH packets; got {Arrivals.Count}{Environment.NewLine}{_transcript.Tail(Name)}");

    /// <summary>Waits for the server's DISCONNECT and returns its reason code.</summary>
    public async Task<int> WaitForServerDisconnectAsync(TimeSpan? timeout = null) =>
        (await _serverDisconnects.WaitUntilAsync(d => d.Count > 0, timeout ?? Budget.Wait,
            () => $"{Name}: no DISCONNECT from the server{Environment.NewLine}{_transcript.Tail(Name)}"))[0];

    /// <summary>Waits until the client's connection is closed (by either side).</summary>
    public async Task WaitForClosedAsync(TimeSpan? timeout = null)
    {
        try
        {
            await _closed.Task.WaitAsync(timeout ?? Budget.Wait);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Name}: connection still open{Environment.NewLine}{_transcript.Tail(Name)}");
        }
    }

    public IReadOnlyList<string> Transcript() => _transcript.Since(0);

    /// <summary>Ends the client's connection (without DISCONNECT) when its test is over.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.CallAsync(_handle, "kill", [], TimeSpan.FromSeconds(2));
        }
        catch (Exception e) when (e is TimeoutException or ScriptedClientException)
        {
            _transcript.Add($"-- kill at test end failed: {e.Message}");
        }
        _host.Unregister(_handle);
    }

    internal void OnEvent(JsonElement e)
    {
        _transcript.Add($"out: {e.GetRawText()}");
        switch (e.GetProperty("ev").GetString())
        {
            case "message":
                _messages.Add(ReceivedMessage.FromAgentEvent(e));
                break;
            case "arrived":
                _arrivals.Add(e.GetProperty("mid").GetInt32());
                break;
            case "serverDisconnect":
                _serverDisconnects.Add(e.GetProperty("reasonCode").GetInt32());
                break;
            case "closed":
                _closed.TrySetResult();
                break;
        }
    }

    internal void OnHostEnded()
    {
        _transcript.Add("-- the host process ended");
        _closed.TrySetResult();
        _messages.Complete();
        _serverDisconnects.Complete();
        _arrivals.Complete();
    }

    private async Task<JsonElement> CallAsync(string op, JsonObject command)
    {
        _transcript.Add($"in: {op} {command.ToJsonString()}");
        JsonElement result;
        try
        {
            result = await _host.CallAsync(_handle, op, command, Budget.Wait);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{Name}: {e.Message}{Environment.NewLine}{_transcript.Tail(Name)}{Environment.NewLine}{_host.TranscriptTail()}");
        }
        _transcript.Add($"result: {result.GetRawText()}");
        if (!result.GetProperty("ok").GetBoolean())
        {
            var error = result.TryGetProperty("error", out var e) ? e.ToString() : "failed";
            throw new ScriptedClientException($"{Name}: {op} failed: {error}") { ReasonCode = OptionalInt(result, "reasonCode") };
        }
        return result;
    }

    private static int? OptionalInt(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;
}
