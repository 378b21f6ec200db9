using System.Globalization;
using System.Text;
using System.Text.Json;
using AccessLayer.Gateway.Mlp.Push;
using AccessLayer.Protocol.Hpack;
using Microsoft.AspNetCore.Http.Features;

namespace AccessLayer.Gateway.Mlp.Http;

/// <summary>
/// <c>POST /api/v1/push</c>: backends send downlinks. JSON body
/// <c>{"deviceId"|"userId", "service", "operation", "headers":{...}, "payloadBase64"|"payloadText", "sequenced":true}</c>,
/// or the raw payload with <c>Content-Type: application/x-protobuf</c> and the same fields in the
/// query string. Sequenced pushes are queued in the device's session (bounded, drops counted) and
/// sent at once when it is connected; unsequenced ones go only to connected devices.
/// Answers 202 with <c>{"devices":n,"online":n,"queued":n,"dropped":n}</c>; 507 when the store could take the
/// push for none of the devices (<c>Mlp:MaxPushStoreBytes</c>, <c>Mlp:MaxPushDevices</c>); 413 past 2 MiB of body.
/// In a fleet the devices may be connected to any node or offline with their session in Redis
/// (<see cref="Fleet.MlpFleetSessions"/>); 503 when the fleet could take the push for none of them.
/// </summary>
internal static class MlpPushEndpoint
{
    private const int MaxPushBody = 1024 * 1024;

    /// <summary>Largest request body read (a base64 payload in JSON is a third larger than the payload); Kestrel refuses more, chunked bodies too.</summary>
    internal const int MaxRequestBody = MaxPushBody * 2;

    public static async Task<IResult> HandleAsync(HttpContext context, MlpGateway gateway)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = MaxRequestBody;
        try
        {
            return await HandleCoreAsync(context, gateway).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Results.Problem($"push body larger than {MaxRequestBody} bytes", statusCode: StatusCodes.Status413PayloadTooLarge);
        }
    }

    private static async Task<IResult> HandleCoreAsync(HttpContext context, MlpGateway gateway)
    {
        var request = context.Request;
        string? deviceId, userId, service, operation;
        var headers = new List<HeaderField>();
        var sequenced = true;
        byte[] payload;
        if (request.ContentLength > MaxRequestBody)
            return Results.Problem("push body too large", statusCode: StatusCodes.Status413PayloadTooLarge);

        var isJson = request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true;
        if (isJson)
        {
            JsonDocument document;
            try
            {
                document = await JsonDocument.ParseAsync(request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
            }
            catch (JsonException ex)
            {
                return Results.Problem("invalid JSON: " + ex.Message, statusCode: StatusCodes.Status400BadRequest);
            }

            using (document)
            {
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                    return Results.Problem("the body must be a JSON object", statusCode: StatusCodes.Status400BadRequest);
                deviceId = GetString(root, "deviceId");
                userId = GetString(root, "userId");
                service = GetString(root, "service");
                operation = GetString(root, "operation");
                if (root.TryGetProperty("sequenced", out var seq) && seq.ValueKind is JsonValueKind.False)
                    sequenced = false;
                if (root.TryGetProperty("headers", out var h) && h.ValueKind == JsonValueKind.Object)
                {
                    foreach (var property in h.EnumerateObject())
                        headers.Add(new HeaderField(property.Name.ToLowerInvariant(), property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText()));
                }

                if (GetString(root, "payloadBase64") is { } b64)
                {
                    try
                    {
                        payload = Convert.FromBase64String(b64);
                    }
                    catch (FormatException)
                    {
                        return Results.Problem("payloadBase64 is not base64", statusCode: StatusCodes.Status400BadRequest);
                    }
                }
                else
                {
                    payload = Encoding.UTF8.GetBytes(GetString(root, "payloadText") ?? string.Empty);
                }
            }
        }
        else
        {
            var query = request.Query;
            deviceId = NullIfEmpty(query["deviceId"]);
            userId = NullIfEmpty(query["userId"]);
            service = NullIfEmpty(query["service"]);
            operation = NullIfEmpty(query["operation"]);
            sequenced = !string.Equals(query["sequenced"], "false", StringComparison.OrdinalIgnoreCase);
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
            payload = buffer.ToArray();
            if (request.ContentType is { Length: > 0 } type)
                headers.Add(new HeaderField("content-type", type));
        }

        if (payload.Length > MaxPushBody)
            return Results.Problem("payload too large", statusCode: StatusCodes.Status413PayloadTooLarge);
        if (string.IsNullOrEmpty(service) || string.IsNullOrEmpty(operation))
            return Results.Problem("service and operation are required", statusCode: StatusCodes.Status400BadRequest);
        if (string.IsNullOrEmpty(deviceId) == string.IsNullOrEmpty(userId))
            return Results.Problem("give exactly one of deviceId and userId", statusCode: StatusCodes.Status400BadRequest);
        foreach (var header in headers)
        {
            if (header.Name.StartsWith(':') || header.Name.Length == 0)
                return Results.Problem($"header '{header.Name}' is not allowed", statusCode: StatusCodes.Status400BadRequest);
        }

        headers.InsertRange(0, [new HeaderField(MlpHeaders.Service, service), new HeaderField(MlpHeaders.Operation, operation)]);
        var fleet = gateway.Fleet;
        IReadOnlyList<string> devices;
        if (deviceId is not null)
        {
            devices = [deviceId];
        }
        else if (!fleet.IsEnabled)
        {
            devices = await gateway.Sessions.GetUserDevicesAsync(userId!, context.RequestAborted).ConfigureAwait(false);
        }
        else
        {
            try
            {
                devices = await fleet.GetUserDevicesAsync(userId!, context.RequestAborted).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
            {
                MlpLog.FleetCallFailed(gateway.Logger, userId!, "user devices", ex.Message);
                return Results.Problem("the fleet could not list the user's devices; retry", statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        }

        if (devices.Count == 0)
            return Results.Problem($"no device known for user '{userId}'", statusCode: StatusCodes.Status404NotFound);

        var message = new MlpPushMessage(headers, payload, gateway.Time.GetUtcNow(), userId);
        int online = 0, queued = 0, dropped = 0, storeFull = 0, unavailable = 0;
        string? fullReason = null;
        foreach (var device in devices)
        {
            if (fleet.IsEnabled)
            {
                // The device may be connected to any node, or offline with its session in Redis.
                MlpEnqueueOutcome fleetOutcome;
                bool fleetOnline;
                try
                {
                    (fleetOutcome, fleetOnline) = await fleet.PushAsync(device, message, sequenced, context.RequestAborted).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
                {
                    MlpLog.FleetCallFailed(gateway.Logger, device, "push", ex.Message);
                    unavailable++;
                    Dropped(gateway, device, "fleet_unavailable", ref dropped);
                    continue;
                }

                if (!sequenced)
                {
                    if (fleetOnline)
                        online++;
                    else
                        Dropped(gateway, device, "offline", ref dropped);
                    continue;
                }

                if (Count(gateway, device, fleetOutcome, ref dropped, ref storeFull, ref fullReason))
                {
                    queued++;
                    if (fleetOnline)
                        online++;
                }

                continue;
            }

            if (!sequenced)
            {
                if (gateway.Connections.TrySendUnsequenced(device, message))
                    online++;
                else
                    Dropped(gateway, device, "offline", ref dropped);
                continue;
            }

            var outcome = await gateway.Sessions.EnqueueAsync(device, message, context.RequestAborted).ConfigureAwait(false);
            if (outcome == MlpEnqueueOutcome.Rejected)
            {
                Dropped(gateway, device, "queue_full", ref dropped);
                continue;
            }

            if (outcome is MlpEnqueueOutcome.RejectedStoreFull or MlpEnqueueOutcome.RejectedTooManyDevices)
            {
                var reason = outcome == MlpEnqueueOutcome.RejectedStoreFull ? "store_full" : "too_many_devices";
                fullReason ??= reason;
                storeFull++;
                Dropped(gateway, device, reason, ref dropped);
                continue;
            }

            if (outcome == MlpEnqueueOutcome.QueuedDroppedOldest)
                Dropped(gateway, device, "queue_full", ref dropped);
            queued++;
            gateway.Metrics.PushesAccepted.Add(1);
            if (gateway.Connections.NotifyPushes(device))
                online++;
        }

        if (unavailable == devices.Count)
            return Results.Problem("the fleet could not take the push; retry", statusCode: StatusCodes.Status503ServiceUnavailable);

        // Nothing could be stored anywhere: the caller must retry later, not believe the push was taken.
        if (storeFull + unavailable == devices.Count && storeFull > 0)
        {
            var detail = fullReason == "store_full"
                ? $"the push store is full ({gateway.Options.MaxPushStoreBytes} bytes, Mlp:MaxPushStoreBytes)"
                : $"the push store keeps {gateway.Options.MaxPushDevices} devices already (Mlp:MaxPushDevices)";
            return Results.Problem(detail, statusCode: StatusCodes.Status507InsufficientStorage, title: fullReason);
        }

        var json = string.Create(CultureInfo.InvariantCulture, $"{{\"devices\":{devices.Count},\"online\":{online},\"queued\":{queued},\"dropped\":{dropped}}}");
        return Results.Text(json, "application/json", Encoding.UTF8, StatusCodes.Status202Accepted);
    }

    /// <summary>Counts a fleet push's outcome as the single-node path does; true when it was queued.</summary>
    private static bool Count(MlpGateway gateway, string device, MlpEnqueueOutcome outcome, ref int dropped, ref int storeFull, ref string? fullReason)
    {
        switch (outcome)
        {
            case MlpEnqueueOutcome.Rejected:
                Dropped(gateway, device, "queue_full", ref dropped);
                return false;
            case MlpEnqueueOutcome.RejectedStoreFull or MlpEnqueueOutcome.RejectedTooManyDevices:
                var reason = outcome == MlpEnqueueOutcome.RejectedStoreFull ? "store_full" : "too_many_devices";
                fullReason ??= reason;
                storeFull++;
                Dropped(gateway, device, reason, ref dropped);
                return false;
            case MlpEnqueueOutcome.QueuedDroppedOldest:
                Dropped(gateway, device, "queue_full", ref dropped);
                break;
        }

        gateway.Metrics.PushesAccepted.Add(1);
        return true;
    }

    private static void Dropped(MlpGateway gateway, string device, string reason, ref int dropped)
    {
        dropped++;
        gateway.Metrics.PushesDropped.Add(1, MlpMetrics.Tag("reason", reason));
        MlpLog.PushDropped(gateway.Logger, device, reason);
    }

    private static string? GetString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } s ? s : null;

    private static string? NullIfEmpty(Microsoft.Extensions.Primitives.StringValues value) => value.Count == 0 || string.IsNullOrEmpty(value[0]) ? null : value[0];
}
