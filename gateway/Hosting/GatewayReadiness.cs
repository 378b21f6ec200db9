namespace AccessLayer.Gateway.Hosting;

/// <summary>Whether the node takes new clients; turns false when a drain starts.</summary>
internal sealed class GatewayReadiness
{
    private volatile bool _draining;

    public bool IsReady => !_draining;

    public void BeginDrain() => _draining = true;

    public void EndDrain() => _draining = false;
}
