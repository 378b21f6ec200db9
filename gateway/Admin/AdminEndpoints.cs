using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Mqtt;
using AccessLayer.Gateway.Security;
using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions.Store;

namespace AccessLayer.Gateway.Admin;

/// <summary>
/// The operator API under <c>/api/v1</c> on the management surface (behind its bearer token,
/// <see cref="AccessLayer.Gateway.Management.ManagementAuthorization"/>): connected clients (paged,
/// by prefix), one client's connection and session, kick, drain, flapping bans, and reloading the security files.
/// </summary>
internal static class AdminEndpoints
{
    public const int MaxPageSize = 1000;

    /// <param name="api">The management surface's <c>/api/v1</c> group.</param>
    public static void MapAdminApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/clients", ListClients);
        api.MapGet("/clients/{clientId}", GetClientAsync);
        api.MapDelete("/clients/{clientId}", KickClient);
        api.MapGet("/drain", (DrainCoordinator drain) => Results.Json(ToInfo(drain.Status), AdminJsonContext.Default.DrainInfo));
        api.MapPost("/drain", StartDrain);
        api.MapDelete("/drain", (DrainCoordinator drain) => drain.Cancel()
            ? Results.Json(ToInfo(drain.Status), AdminJsonContext.Default.DrainInfo)
            : Results.Json(new AdminError("No drain is running."), AdminJsonContext.Default.AdminError, statusCode: StatusCodes.Status409Conflict));
        api.MapGet("/bans", (FlappingDetector flapping) =>
            Results.Json(flapping.Bans().Select(b => new BanInfo(b.ClientId, b.Address, b.Remaining.TotalSeconds)).ToArray(), AdminJsonContext.Default.BanInfoArray));
        api.MapDelete("/bans/{clientId}", (string clientId, FlappingDetector flapping) => flapping.Unban(clientId) ? Results.NoContent() : Results.NotFound());
        api.MapPost("/admin/reload", ReloadAsync);
    }

    /// <summary>Reloads the ACL, password and TLS files; 200 with what changed, 422 when a file did not load (the old one stays).</summary>
    private static async Task<IResult> ReloadAsync(SecurityReloader reloader)
    {
        var result = await reloader.ReloadAsync("admin").ConfigureAwait(false);
        return Results.Json(result, AdminJsonContext.Default.SecurityReloadResult, statusCode: result.Failed ? StatusCodes.Status422UnprocessableEntity : StatusCodes.Status200OK);
    }

    /// <param name="search">Optional: a case-insensitive part of the client id or of the user name (the dashboard's search box).</param>
    private static IResult ListClients(MqttBroker broker, string? prefix, string? search, int? page, int? pageSize)
    {
        var size = Math.Clamp(pageSize ?? 100, 1, MaxPageSize);
        var number = Math.Max(page ?? 1, 1);
        var matching = new List<MqttConnection>();
        foreach (var connection in broker.Clients)
        {
            if ((string.IsNullOrEmpty(prefix) || connection.ClientId!.StartsWith(prefix, StringComparison.Ordinal))
                && (string.IsNullOrEmpty(search)
                    || connection.ClientId!.Contains(search, StringComparison.OrdinalIgnoreCase)
                    || connection.Identity?.Contains(search, StringComparison.OrdinalIgnoreCase) == true))
            {
                matching.Add(connection);
            }
        }

        // Sorted by client id so pages are stable while clients come and go elsewhere in the list.
        matching.Sort(static (a, b) => string.CompareOrdinal(a.ClientId, b.ClientId));
        var items = matching.Skip((number - 1) * size).Take(size).Select(ToSummary).ToList();
        return Results.Json(new ClientPage(matching.Count, number, size, items), AdminJsonContext.Default.ClientPage);
    }

    private static async Task<IResult> GetClientAsync(string clientId, MqttBroker broker)
    {
        var connected = broker.TryGetClient(clientId, out var connection);
        var session = await broker.Sessions.GetAsync(clientId).ConfigureAwait(false);
        if (!connected && session is null)
        {
            return Results.Json(new AdminError($"No client or session '{clientId}'."), AdminJsonContext.Default.AdminError, statusCode: StatusCodes.Status404NotFound);
        }

        SocketInfo? socket = null;
        if (connected && connection.ReadSocketState() is { } state)
        {
            socket = new SocketInfo(state.KeepAlive, state.KeepAliveTimeSeconds, state.KeepAliveIntervalSeconds, state.KeepAliveRetryCount, state.UserTimeoutMilliseconds);
        }

        var detail = new ClientDetail(
            clientId,
            connected,
            connected ? ToSummary(connection) : null,
            connected ? connection.ConnectionId : null,
            connected ? connection.AuthenticationMethod : null,
            connected ? connection.ClientCertificate?.Subject : null,
            connected ? connection.TlsProtocol?.ToString() : null,
            socket,
            session is null ? null : ToInfo(session));
        return Results.Json(detail, AdminJsonContext.Default.ClientDetail);
    }

    private static IResult KickClient(string clientId, MqttBroker broker, ILogger<MqttBroker> logger)
    {
        if (!broker.TryGetClient(clientId, out var connection) || connection.IsClosing)
        {
            return Results.Json(new AdminError($"Client '{clientId}' is not connected."), AdminJsonContext.Default.AdminError, statusCode: StatusCodes.Status404NotFound);
        }

        GovernanceLog.ClientKicked(logger, clientId);
        connection.Evict(MqttReasonCode.AdministrativeAction, "admin_kick", "Disconnected by an administrator.");
        return Results.NoContent();
    }

    private static IResult StartDrain(DrainCoordinator drain)
    {
        var started = drain.Start("admin API");
        return Results.Json(ToInfo(drain.Status), AdminJsonContext.Default.DrainInfo, statusCode: started ? StatusCodes.Status202Accepted : StatusCodes.Status409Conflict);
    }

    private static ClientSummary ToSummary(MqttConnection connection) => new(
        connection.ClientId!,
        connection.Identity,
        connection.Version == MqttProtocolVersion.V500 ? "5.0" : "3.1.1",
        connection.Listener,
        connection.RemoteEndPoint?.ToString(),
        connection.ConnectedAt,
        connection.KeepAliveSeconds,
        connection.CleanStart,
        connection.SessionExpiryInterval,
        connection.InflightCount,
        connection.OutboundQueueLength,
        connection.OutboundQueueBytes);

    private static SessionInfo ToInfo(SessionState session) => new(
        session.IsConnected,
        session.SessionExpiryInterval,
        session.DisconnectedAt,
        session.Subscriptions.Select(s => new SubscriptionInfo(s.TopicFilter, (int)s.Options.MaximumQualityOfService, s.Options.NoLocal, s.Options.RetainAsPublished, s.Options.SubscriptionIdentifier)).ToList(),
        session.Inflight.Count,
        session.QueuedMessageCount,
        session.Will is not null);

    private static DrainInfo ToInfo(DrainStatus status) => new(status.State.ToString().ToLowerInvariant(), status.Reason, status.StartedAt, status.Moved, status.Remaining, status.ServerReference, status.Failed);
}
