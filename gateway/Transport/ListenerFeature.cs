namespace AccessLayer.Gateway.Transport;

/// <summary>
/// Which listener accepted a connection ("tcp", "tls", "ws", "wss", ...), set by the governance
/// middleware so that per-listener limits, the admin API and metrics can name it.
/// </summary>
internal interface IListenerFeature
{
    string Listener { get; }
}

internal sealed class ListenerFeature(string listener) : IListenerFeature
{
    public string Listener { get; } = listener;
}
