using System.Text.Json;
using System.Text.Json.Serialization;

namespace AccessLayer.Gateway.Admin;

internal sealed record ClientSummary(
    string ClientId,
    string? UserName,
    string ProtocolVersion,
    string Listener,
    string? RemoteEndPoint,
    DateTimeOffset? ConnectedAt,
    int KeepAlive,
    bool CleanStart,
    uint SessionExpiryInterval,
    int Inflight,
    int OutboundQueue,
    long OutboundQueueBytes);

internal sealed record ClientPage(int Total, int Page, int PageSize, IReadOnlyList<ClientSummary> Items);

internal sealed record SocketInfo(bool KeepAlive, int KeepAliveTimeSeconds, int KeepAliveIntervalSeconds, int KeepAliveRetryCount, int UserTimeoutMilliseconds);

internal sealed record SubscriptionInfo(string TopicFilter, int MaximumQoS, bool NoLocal, bool RetainAsPublished, uint SubscriptionIdentifier);

internal sealed record SessionInfo(bool Connected, uint SessionExpiryInterval, DateTimeOffset? DisconnectedAt, IReadOnlyList<SubscriptionInfo> Subscriptions, int Inflight, int Queued, bool HasWill);

/// <summary>One client id: its live connection (if any) and its session (if any).</summary>
internal sealed record ClientDetail(
    string ClientId,
    bool Connected,
    ClientSummary? Connection,
    string? ConnectionId,
    string? AuthenticationMethod,
    string? CertificateSubject,
    string? TlsProtocol,
    SocketInfo? Socket,
    SessionInfo? Session);

internal sealed record DrainInfo(string State, string? Reason, DateTimeOffset? StartedAt, long Moved, int Remaining, string? ServerReference, IReadOnlyList<string> Failed);

internal sealed record BanInfo(string ClientId, string Address, double RemainingSeconds);

internal sealed record AdminError(string Error);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ClientPage))]
[JsonSerializable(typeof(ClientDetail))]
[JsonSerializable(typeof(DrainInfo))]
[JsonSerializable(typeof(BanInfo[]))]
[JsonSerializable(typeof(AdminError))]
[JsonSerializable(typeof(AccessLayer.Gateway.Security.SecurityReloadResult))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;
