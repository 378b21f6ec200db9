using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Management;

/// <summary>
/// Routing keeps only the endpoints of the surface the request came in on: a request accepted
/// on <c>Management:Port</c> matches management endpoints, any other HTTP port matches device
/// endpoints, so the other surface's routes are a plain 404. The surface is the connection's
/// local port, not the <c>Host</c> header (which the client chooses). An endpoint that names no
/// surface matches on neither: a route mapped without one fails closed. That includes routing's own
/// 405 endpoint, so a wrong method is a 404 too: a 405 on the device port would reveal a management path.
/// </summary>
internal sealed class HttpSurfacePolicy(IOptions<ManagementOptions> options) : MatcherPolicy, IEndpointSelectorPolicy
{
    private readonly int _managementPort = options.Value.Port;

    public override int Order => 0;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) => true;

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        var surface = _managementPort > 0 && httpContext.Connection.LocalPort == _managementPort ? HttpSurface.Management : HttpSurface.Device;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (candidates.IsValidCandidate(i) && candidates[i].Endpoint.Metadata.GetMetadata<HttpSurfaceMetadata>()?.Surface != surface)
            {
                candidates.SetValidity(i, false);
            }
        }

        return Task.CompletedTask;
    }
}
