using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Admin;

/// <summary>Bearer-token check for the admin API: 403 while <c>Admin:Token</c> is unset, 401 for a missing or wrong token (compared in constant time).</summary>
internal sealed class AdminAuthorization(IOptions<AdminOptions> options) : IEndpointFilter
{
    private readonly byte[]? _token = string.IsNullOrEmpty(options.Value.Token) ? null : Encoding.UTF8.GetBytes(options.Value.Token);

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (_token is null)
        {
            return ValueTask.FromResult<object?>(Results.Json(new AdminError("The admin API is disabled: set Admin:Token."), AdminJsonContext.Default.AdminError, statusCode: StatusCodes.Status403Forbidden));
        }

        var header = context.HttpContext.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
            || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()), _token))
        {
            context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
            return ValueTask.FromResult<object?>(Results.Json(new AdminError("A valid bearer token is required."), AdminJsonContext.Default.AdminError, statusCode: StatusCodes.Status401Unauthorized));
        }

        return next(context);
    }
}
