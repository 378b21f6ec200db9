using System.Net;
using Microsoft.AspNetCore.Connections;

namespace AccessLayer.Gateway.Transport;

/// <summary>
/// Kestrel transport for the endpoints marked <see cref="LeanEndPoint"/>. Kestrel asks the factories
/// registered last first and skips one whose <see cref="CanBind"/> says no, so HTTP endpoints fall
/// through to the socket transport.
/// </summary>
internal sealed class LeanConnectionListenerFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => endpoint is LeanEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not LeanEndPoint lean)
        {
            throw new NotSupportedException($"The lean transport binds only {nameof(LeanEndPoint)}s, not {endpoint.GetType().Name}.");
        }

        return new ValueTask<IConnectionListener>(LeanConnectionListener.Bind(lean));
    }
}
