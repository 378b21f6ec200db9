namespace AccessLayer.Gateway.Management;

/// <summary>
/// The one bearer-token check of the management surface. It runs after routing, on every
/// endpoint whose surface is <see cref="HttpSurface.Management"/> unless the endpoint says
/// <see cref="ManagementTokenNotRequired"/>: a route added to that surface is protected without
/// asking. No token configured: 403 (closed, never open); missing or wrong token: 401.
/// A middleware rather than an endpoint filter so that it also covers <see cref="RequestDelegate"/> endpoints.
/// </summary>
internal sealed class ManagementAuthorization(RequestDelegate next, ManagementTokens tokens, ILogger<ManagementAuthorization> logger)
{
    private const string Scheme = "Bearer ";

    public Task InvokeAsync(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata;
        if (metadata?.GetMetadata<HttpSurfaceMetadata>()?.Surface != HttpSurface.Management
            || metadata.GetMetadata<ManagementTokenNotRequired>() is not null)
        {
            return next(context);
        }

        if (!tokens.IsConfigured)
        {
            return RefuseAsync(context, StatusCodes.Status403Forbidden, "The management API is disabled: set Management:Token or Management:TokenFile.");
        }

        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) || !tokens.Accepts(header.AsSpan(Scheme.Length).Trim()))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return RefuseAsync(context, StatusCodes.Status401Unauthorized, "A valid bearer token is required.");
        }

        return next(context);
    }

    private Task RefuseAsync(HttpContext context, int status, string error)
    {
        ManagementLog.Refused(logger, context.Request.Method, context.Request.Path, context.Connection.RemoteIpAddress?.ToString(), status == StatusCodes.Status403Forbidden ? "no token configured" : "missing or wrong bearer token");
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync("{\"error\":\"" + error + "\"}");
    }
}
