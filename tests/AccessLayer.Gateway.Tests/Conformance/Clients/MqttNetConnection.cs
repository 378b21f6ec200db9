using System.Text;
using System.Text.Json.Nodes;
using AccessLayer.Gateway.Tests.Conformance.Harness;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace AccessLayer.Gateway.Tests.Conformance.Clients;

/// <summary>
/// One named MQTTnet 5 client (<see cref="IMqttClient"/>) driven by the harness's commands
/// (connect, subscribe, unsubscribe, publish, holdAcks, releaseAcks, disconnect, kill), the C#
/// twin of tests/js/agent.mjs: the same results, and the same events (message, arrived,
/// serverDisconnect, closed) through <paramref name="emit"/>. Each CONNECT makes a new client;
/// a client stays down once its connection is gone (no reconnect). Every MQTTnet call is bounded
/// by <see cref="Budget.Wait"/>.
/// </summary>
internal sealed class MqttNetConnection(Action<JsonObject> emit) : IDisposable
{
    private readonly object _gate = new();
    private IMqttClient? _client;
    private MqttNetAckGate? _acks;
    private TaskCompletionSource _closed = Closed();
    private int _version = 4;

    public async Task<JsonObject> RunAsync(string op, JsonObject cmd)
    {
        try
        {
            if (op is not ("connect" or "kill") && _client is null) return Fail("not connected");
            using var timeout = new CancellationTokenSource(Budget.Wait);
            return op switch
            {
                "connect" => await ConnectAsync(cmd, timeout.Token),
                "subscribe" => await SubscribeAsync(cmd, timeout.Token),
                "unsubscribe" => await UnsubscribeAsync(cmd, timeout.Token),
                "publish" => await PublishAsync(cmd, timeout.Token),
                "holdAcks" => HoldAcks(cmd),
                "releaseAcks" => Ok(new JsonObject { ["released"] = await _acks!.ReleaseAsync(timeout.Token) }),
                "disconnect" => await DisconnectAsync(cmd, timeout.Token),
                "kill" => await KillAsync(),
                _ => Fail($"unknown op {op}"),
            };
        }
        catch (Exception e)
        {
            return Fail($"{e.GetType().Name}: {e.Message}");
        }
    }

    public void Dispose() => _client?.Dispose();

    private async Task<JsonObject> ConnectAsync(JsonObject cmd, CancellationToken cancellationToken)
    {
        if (!_closed.Task.IsCompleted) return Fail("already connected");
        _version = Int(cmd, "version") ?? 4;
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer((string)cmd["host"]!, Int(cmd, "port"))
            .WithProtocolVersion(_version == 5 ? MqttProtocolVersion.V500 : MqttProtocolVersion.V311)
            .WithClientId((string)cmd["clientId"]!)
            .WithCleanSession((bool?)cmd["clean"] ?? true)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(Int(cmd, "keepalive") ?? 30))
            .WithTimeout(Budget.Wait);
        if (_version == 5)
        {
            if (Long(cmd, "sessionExpiry") is { } expiry) builder.WithSessionExpiryInterval((uint)expiry);
            if (Int(cmd, "receiveMaximum") is { } receiveMaximum) builder.WithReceiveMaximum((ushort)receiveMaximum);
            if (Long(cmd, "maximumPacketSize") is { } maximumPacketSize) builder.WithMaximumPacketSize((uint)maximumPacketSize);
            if (Int(cmd, "topicAliasMaximum") is { } topicAliasMaximum) builder.WithTopicAliasMaximum((ushort)topicAliasMaximum);
        }
        if (cmd["will"] is JsonObject will)
        {
            builder.WithWillTopic((string)will["topic"]!)
                .WithWillPayload((string?)will["payload"] ?? "")
                .WithWillQualityOfServiceLevel((MqttQualityOfServiceLevel)(Int(will, "qos") ?? 0))
                .WithWillRetain((bool?)will["retain"] ?? false);
            if (_version == 5 && Long(will, "willDelay") is { } delay) builder.WithWillDelayInterval((uint)delay);
        }

        MqttNetAckGate? acks = null;
        var client = new MqttClientFactory().CreateMqttClient(new MqttNetAckGateFactory(inner =>
            acks = new MqttNetAckGate(inner,
                mid => emit(new JsonObject { ["ev"] = "arrived", ["mid"] = mid }),
                reason => emit(new JsonObject { ["ev"] = "serverDisconnect", ["reasonCode"] = reason }))));
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ApplicationMessageReceivedAsync += e =>
        {
            emit(Message(e.ApplicationMessage));
            return Task.CompletedTask;
        };
        client.DisconnectedAsync += _ =>
        {
            OnClosed(closed);
            return Task.CompletedTask;
        };
        lock (_gate)
        {
            _client?.Dispose();
            _client = client;
            _closed = closed;
        }

        var connack = await client.ConnectAsync(builder.Build(), cancellationToken);
        _acks = acks;
        var result = new JsonObject { ["reasonCode"] = (int)connack.ResultCode, ["sessionPresent"] = connack.IsSessionPresent };
        if (_version == 5)
        {
            var props = new JsonObject { ["topicAliasMaximum"] = (int)connack.TopicAliasMaximum };
            if (connack.ReceiveMaximum is { } receiveMaximum) props["receiveMaximum"] = (int)receiveMaximum;
            if (connack.MaximumPacketSize is { } maximumPacketSize) props["maximumPacketSize"] = (long)maximumPacketSize;
            result["props"] = props;
        }
        if (connack.ResultCode != MqttClientConnectResultCode.Success) OnClosed(closed);
        return Ok(result);
    }

    private async Task<JsonObject> SubscribeAsync(JsonObject cmd, CancellationToken cancellationToken)
    {
        var filter = new MqttTopicFilterBuilder()
            .WithTopic((string)cmd["filter"]!)
            .WithQualityOfServiceLevel((MqttQualityOfServiceLevel)(Int(cmd, "qos") ?? 0));
        var options = new MqttClientSubscribeOptionsBuilder();
        if (_version == 5)
        {
            filter.WithNoLocal((bool?)cmd["noLocal"] ?? false)
                .WithRetainAsPublished((bool?)cmd["retainAsPublished"] ?? false)
                .WithRetainHandling((MqttRetainHandling)(Int(cmd, "retainHandling") ?? 0));
            if (Long(cmd, "subscriptionId") is { } id) options.WithSubscriptionIdentifier((uint)id);
        }
        var suback = await _client!.SubscribeAsync(options.WithTopicFilter(filter).Build(), cancellationToken);
        return Ok(new JsonObject { ["reasonCodes"] = new JsonArray([.. suback.Items.Select(i => JsonValue.Create((int)i.ResultCode))]) });
    }

    private async Task<JsonObject> UnsubscribeAsync(JsonObject cmd, CancellationToken cancellationToken)
    {
        var unsuback = await _client!.UnsubscribeAsync(new MqttClientUnsubscribeOptionsBuilder().WithTopicFilter((string)cmd["filter"]!).Build(), cancellationToken);
        // 3.1.1's UNSUBACK has no reason codes (MQTTnet reports Success for each).
        return _version == 5 ? Ok(new JsonObject { ["reasonCodes"] = new JsonArray([.. unsuback.Items.Select(i => JsonValue.Create((int)i.ResultCode))]) }) : Ok();
    }

    /// <summary>One message after another, each flow complete before the next (the order is the test's).</summary>
    private async Task<JsonObject> PublishAsync(JsonObject cmd, CancellationToken cancellationToken)
    {
        var payload = (string?)cmd["payload"] ?? "";
        var count = Int(cmd, "count");
        var payloads = count is null ? [payload] : Enumerable.Range(0, count.Value).Select(i => $"{payload}{i}");
        int? reasonCode = null;
        foreach (var one in payloads)
        {
            var message = new MqttApplicationMessageBuilder()
                .WithTopic((string)cmd["topic"]!)
                .WithPayload(one)
                .WithQualityOfServiceLevel((MqttQualityOfServiceLevel)(Int(cmd, "qos") ?? 0))
                .WithRetainFlag((bool?)cmd["retain"] ?? false);
            if (_version == 5 && cmd["props"] is JsonObject props) WithProperties(message, props);
            var puback = await _client!.PublishAsync(message.Build(), cancellationToken);
            if (!puback.IsSuccess) return Fail($"PUBLISH answered {puback.ReasonCode}", (int)puback.ReasonCode);
            reasonCode = (int)puback.ReasonCode;
        }
        // QoS 0 has no acknowledgement and 3.1.1's carries no reason code: nothing to report.
        return Ok(Int(cmd, "qos") > 0 && _version == 5 ? new JsonObject { ["reasonCode"] = reasonCode } : null);
    }

    private JsonObject HoldAcks(JsonObject cmd)
    {
        _acks!.Hold(cmd["kinds"] is JsonArray kinds ? kinds.Select(k => (string)k!) : ["puback", "pubrec"]);
        return Ok();
    }

    private async Task<JsonObject> DisconnectAsync(JsonObject cmd, CancellationToken cancellationToken)
    {
        var closed = _closed;
        if (closed.Task.IsCompleted) return Ok();
        var options = new MqttClientDisconnectOptions { Reason = (MqttClientDisconnectOptionsReason)(Int(cmd, "reasonCode") ?? 0) };
        if (Long(cmd, "sessionExpiry") is { } expiry) options.SessionExpiryInterval = (uint)expiry;
        await _client!.DisconnectAsync(options, cancellationToken);
        await closed.Task.WaitAsync(cancellationToken);
        return Ok();
    }

    /// <summary>Closes the socket without DISCONNECT: disposing an MQTTnet client disposes its channel and nothing more.</summary>
    private Task<JsonObject> KillAsync()
    {
        var closed = _closed;
        if (closed.Task.IsCompleted) return Task.FromResult(Ok());
        _client!.Dispose();
        OnClosed(closed);
        return Task.FromResult(Ok());
    }

    private void OnClosed(TaskCompletionSource closed)
    {
        if (closed.TrySetResult()) emit(new JsonObject { ["ev"] = "closed" });
    }

    private JsonObject Message(MqttApplicationMessage m)
    {
        var e = new JsonObject
        {
            ["ev"] = "message",
            ["topic"] = m.Topic,
            ["payload"] = Encoding.UTF8.GetString(m.Payload),
            ["qos"] = (int)m.QualityOfServiceLevel,
            ["retain"] = m.Retain,
            ["dup"] = m.Dup,
        };
        if (_version != 5) return e;
        var p = new JsonObject();
        if (m.MessageExpiryInterval > 0) p["messageExpiry"] = m.MessageExpiryInterval;
        if (m.TopicAlias > 0) p["topicAlias"] = m.TopicAlias;
        if (m.ResponseTopic is not null) p["responseTopic"] = m.ResponseTopic;
        if (m.CorrelationData is not null) p["correlationData"] = Encoding.UTF8.GetString(m.CorrelationData);
        if (m.ContentType is not null) p["contentType"] = m.ContentType;
        if (m.PayloadFormatIndicator != MqttPayloadFormatIndicator.Unspecified) p["payloadFormat"] = (int)m.PayloadFormatIndicator;
        if (m.UserProperties is { Count: > 0 } user) p["userProps"] = new JsonArray([.. user.Select(u => new JsonArray(JsonValue.Create(u.Name), JsonValue.Create(u.ReadValueAsString())))]);
        if (m.SubscriptionIdentifiers is { Count: > 0 } ids) p["subscriptionIds"] = new JsonArray([.. ids.Select(i => JsonValue.Create((int)i))]);
        e["props"] = p;
        return e;
    }

    private static void WithProperties(MqttApplicationMessageBuilder message, JsonObject p)
    {
        if (Long(p, "messageExpiry") is { } expiry) message.WithMessageExpiryInterval((uint)expiry);
        if (Int(p, "topicAlias") is { } alias) message.WithTopicAlias((ushort)alias);
        if ((string?)p["responseTopic"] is { } responseTopic) message.WithResponseTopic(responseTopic);
        if ((string?)p["correlationData"] is { } correlation) message.WithCorrelationData(Encoding.UTF8.GetBytes(correlation));
        if ((string?)p["contentType"] is { } contentType) message.WithContentType(contentType);
        if (Int(p, "payloadFormat") is { } format) message.WithPayloadFormatIndicator((MqttPayloadFormatIndicator)format);
        if (p["userProps"] is JsonArray user)
        {
            foreach (var kv in user) message.WithUserProperty((string)kv![0]!, Encoding.UTF8.GetBytes((string)kv[1]!).AsMemory());
        }
    }

    private static JsonObject Ok(JsonObject? fields = null)
    {
        var r = fields ?? [];
        r["ok"] = true;
        return r;
    }

    private static JsonObject Fail(string error, int? reasonCode = null) =>
        new() { ["ok"] = false, ["error"] = error, ["reasonCode"] = reasonCode };

    private static TaskCompletionSource Closed()
    {
        var closed = new TaskCompletionSource();
        closed.SetResult();
        return closed;
    }

    private static int? Int(JsonObject o, string name) => (int?)Long(o, name);

    // Numbers arrive as serialized elements or as CLR values: read them by their JSON text.
    private static long? Long(JsonObject o, string name) =>
        o[name] is JsonValue v ? long.Parse(v.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture) : null;
}
