using System.Net;

namespace AccessLayer.Gateway.Transport;

/// <summary>
/// An <see cref="IPEndPoint"/> that asks Kestrel to bind it with the lean transport instead of the
/// socket transport; any other endpoint keeps Kestrel's own transport.
/// </summary>
public sealed class LeanEndPoint(IPAddress address, int port) : IPEndPoint(address, port)
{
}
