using System.Text.Json;
using System.Text.Json.Serialization;

namespace AccessLayer.Gateway.Dashboard;

/// <summary>One chart point: <see cref="T"/> in Unix milliseconds, connections open, rates per second, memory in bytes.</summary>
internal sealed record StatsPoint(
    long T,
    int MqttTcp,
    int MqttTls,
    int MqttWebSocket,
    int Mlp,
    double ConnectsPerSecond,
    double MessagesInPerSecond,
    double MessagesOutPerSecond,
    double DropsPerSecond,
    double BackPressurePausesPerSecond,
    double EvictionsPerSecond,
    long WorkingSetBytes,
    long GcHeapBytes);

internal sealed record StatsResponse(
    string Node,
    bool Self,
    double IntervalSeconds,
    IReadOnlyList<StatsPoint> Samples,
    IReadOnlyDictionary<string, long> EvictionsByReason,
    IReadOnlyDictionary<string, long> DropsByReason,
    long BackPressurePauses);

internal sealed record NodeDrainInfo(string Node, string State, DateTimeOffset? StartedAt, long Moved, int Remaining);

internal sealed record RetainedTopic(string Topic, int QoS, int PayloadBytes, string? Payload, DateTimeOffset StoredAt, uint? ExpiresInSeconds);

/// <summary>A page of retained topics: <see cref="Matched"/> under the prefix, <see cref="Items"/> the first <c>limit</c> after <c>after</c>; <see cref="Next"/> the cursor for the next page.</summary>
internal sealed record RetainedPage(int Matched, IReadOnlyList<RetainedTopic> Items, string? Next);

/// <summary>An MLP device connected here: seconds since its connection was accepted and since its last frame.</summary>
internal sealed record DeviceSummary(string DeviceId, string UserId, double ConnectedSeconds, double IdleSeconds);

internal sealed record DevicePage(int Total, IReadOnlyList<DeviceSummary> Items);

internal sealed record DashboardError(string Error);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StatsResponse))]
[JsonSerializable(typeof(StatsPoint))]
[JsonSerializable(typeof(NodeDrainInfo))]
[JsonSerializable(typeof(RetainedPage))]
[JsonSerializable(typeof(DevicePage))]
[JsonSerializable(typeof(DashboardError))]
internal sealed partial class DashboardJsonContext : JsonSerializerContext;
