using System.Net.Http.Headers;
using System.Text;

namespace AccessLayer.Gateway.Tests.Management;

/// <summary>The routes of each HTTP surface, as requests a test can send to any port.</summary>
internal static class SurfaceRequests
{
    public const string PushBody = """{"deviceId":"dev-1","service":"svc","operation":"op","payloadText":"hello"}""";

    /// <summary>Every management route: the probes and metrics, then everything behind the token.</summary>
    public static readonly (string Method, string Path)[] Management =
    [
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        .. Protected,
    ];

    /// <summary>The management routes that need the bearer token (POST /api/v1/drain last: it starts a drain).</summary>
    public static (string Method, string Path)[] Protected =>
    [
        ("POST", "/api/v1/push"),
        ("POST", "/api/v1/mlp/dictionaries/reload"),
        ("GET", "/api/v1/clients"),
        ("GET", "/api/v1/clients/someone"),
        ("DELETE", "/api/v1/clients/someone"),
        ("GET", "/api/v1/bans"),
        ("DELETE", "/api/v1/bans/someone"),
        ("GET", "/api/v1/drain"),
        ("DELETE", "/api/v1/drain"),
        ("POST", "/api/v1/drain"),
    ];

    public static HttpRequestMessage Create(string method, string path, string? token = null, string? host = null)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST" && path == "/api/v1/push")
        {
            request.Content = new StringContent(PushBody, Encoding.UTF8, "application/json");
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (host is not null)
        {
            request.Headers.Host = host;
        }

        return request;
    }
}
