namespace AccessLayer.Gateway.Transport;

/// <summary>
/// A connection over a bare fd (no <see cref="System.Net.Sockets.Socket"/>): socket options are set
/// with setsockopt directly, so governance tunes it without making a Socket object per connection.
/// </summary>
internal interface IRawSocketOptionsFeature
{
    /// <summary>setsockopt with an int value; throws <see cref="System.Net.Sockets.SocketException"/> on failure.</summary>
    void SetOption(int level, int name, int value);
}
