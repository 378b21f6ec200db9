using AccessLayer.Protocol.Mlp.Envelopes;

namespace AccessLayer.Client.Strategies;

/// <summary>
/// The user's home site (docs/sdk.md "Connection establishment", docs/traffic.md "Steering clients home"): a WELCOME
/// that names <c>home_endpoints</c> says the gateways of another site serve this user (this one forwards the calls);
/// the next connect tries them after a GOAWAY's endpoints and before the configured ones, and last time's winner (this
/// gateway) loses its place at the front. A WELCOME without them says this gateway is home: the list is dropped.
/// </summary>
internal sealed partial class EndpointList
{
    private IReadOnlyList<Uri> _home = [];

    /// <summary>The endpoints of the user's home site from the last WELCOME; empty when it was at home.</summary>
    public IReadOnlyList<Uri> Home
    {
        get
        {
            lock (_lock)
                return _home;
        }
    }

    public void OnWelcome(Welcome welcome)
    {
        var home = welcome.HomeEndpoints.Select(ToUri).OfType<Uri>().ToArray();
        lock (_lock)
        {
            _home = home;
            if (home.Length > 0)
                _preferred = null;
        }
    }
}
