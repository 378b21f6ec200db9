using System.Globalization;

namespace AccessLayer.Gateway.Mlp.Http;

/// <summary>Dictionaries over HTTP (docs/protocol.md §15.3) and the operator's reload.</summary>
internal static class MlpDictionaryEndpoints
{
    /// <summary><c>GET /mlp/v1/dictionaries/{id}</c>, with the fallback's authentication; cacheable for a year (ids are never reused).</summary>
    public static async Task HandleGetAsync(HttpContext context, MlpGateway gateway, uint id)
    {
        var identity = await MlpFallbackEndpoint.AuthenticateAsync(context, gateway).ConfigureAwait(false);
        if (!identity.Succeeded)
        {
            await MlpFallbackEndpoint.WriteErrorAsync(context, gateway, identity.Code, identity.Message, 0).ConfigureAwait(false);
            return;
        }

        if (!gateway.Dictionaries.TryGet(id, out var dictionary) || dictionary is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        context.Response.ContentType = "application/octet-stream";
        context.Response.Headers.CacheControl = "public, max-age=31536000, immutable";
        await context.Response.Body.WriteAsync(dictionary.Content, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary><c>POST /api/v1/mlp/dictionaries/reload</c>: loads new files from Mlp:DictionaryPath; a newer current one is offered to connected clients.</summary>
    public static IResult Reload(MlpGateway gateway)
    {
        var added = gateway.Dictionaries.Reload();
        var json = "{\"added\":[" + string.Join(',', added.Select(a => a.ToString(CultureInfo.InvariantCulture))) + "],\"current\":" + gateway.Dictionaries.CurrentId.ToString(CultureInfo.InvariantCulture) + "}";
        return Results.Text(json, "application/json");
    }
}
