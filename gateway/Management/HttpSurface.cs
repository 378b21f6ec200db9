namespace AccessLayer.Gateway.Management;

/// <summary>Which HTTP surface an endpoint belongs to; it answers on that surface's ports only.</summary>
public enum HttpSurface
{
    /// <summary><c>Http:Port</c> and <c>Http:TlsPort</c>: what devices reach.</summary>
    Device,

    /// <summary><c>Management:Port</c>: what operators and backends reach.</summary>
    Management,
}

/// <summary>Endpoint metadata naming the endpoint's surface. An endpoint without it answers nowhere (see <see cref="HttpSurfacePolicy"/>).</summary>
public sealed record HttpSurfaceMetadata(HttpSurface Surface);

/// <summary>Endpoint metadata: this management endpoint answers without the bearer token (the probes and <c>/metrics</c>).</summary>
public sealed class ManagementTokenNotRequired
{
    public static readonly ManagementTokenNotRequired Instance = new();

    private ManagementTokenNotRequired()
    {
    }
}

public static class HttpSurfaceExtensions
{
    /// <summary>Puts the endpoint(s) on <paramref name="surface"/>.</summary>
    public static TBuilder OnSurface<TBuilder>(this TBuilder builder, HttpSurface surface)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new HttpSurfaceMetadata(surface));

    /// <summary>Lets a management endpoint answer without the bearer token.</summary>
    public static TBuilder WithoutManagementToken<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(ManagementTokenNotRequired.Instance);
}
