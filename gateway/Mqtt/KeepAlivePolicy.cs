using AccessLayer.Gateway.Hosting;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>
/// The keep alive a CONNECT gets. <c>Mqtt:ServerKeepAlive</c>, when set, replaces every 5.0 client's.
/// Otherwise <c>Mqtt:MaxKeepAlive</c> has mosquitto's <c>max_keepalive</c> meaning: a 5.0 client that
/// asks for more, or for none (0), is told Server Keep Alive = the maximum; one that asks for less
/// keeps its own, so a device asking for 2 s is checked at 3 s and its will is not late. A 3.1.1
/// client cannot be told another value, so it keeps its own (mosquitto refuses it with return
/// code 2 instead; a refusal would lock out clients that work everywhere else). A client left at 0
/// gets <c>Mqtt:DefaultKeepAlive</c>, without being told.
/// </summary>
internal static class KeepAlivePolicy
{
    /// <summary>Returns the keep alive to enforce; <paramref name="serverKeepAlive"/> is what CONNACK announces (5.0), or null.</summary>
    public static int Negotiate(bool v5, ushort requested, MqttOptions options, out ushort? serverKeepAlive)
    {
        serverKeepAlive = null;
        if (v5 && options.ServerKeepAlive > 0)
        {
            serverKeepAlive = (ushort)options.ServerKeepAlive;
            return options.ServerKeepAlive;
        }

        if (v5 && options.MaxKeepAlive > 0 && (requested == 0 || requested > options.MaxKeepAlive))
        {
            serverKeepAlive = (ushort)options.MaxKeepAlive;
            return options.MaxKeepAlive;
        }

        return requested != 0 ? requested : options.DefaultKeepAlive;
    }
}
