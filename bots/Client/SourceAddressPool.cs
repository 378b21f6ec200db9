using System.Net;
using System.Net.Sockets;

namespace AccessLayer.Bots.Client;

/// <summary>
/// Spreads client sockets over loopback source addresses 127.0.0.2, 127.0.0.3, ... so one machine
/// is not limited to one source address's ~28,000 ephemeral ports towards one broker port.
/// </summary>
public sealed class SourceAddressPool
{
    // Linux IP_BIND_ADDRESS_NO_PORT (SOL_IP = 0, option 24): bind picks the address now and the port at
    // connect time from the whole 4-tuple, instead of reserving a port per source address at bind.
    private const int SolIp = 0;
    private const int IpBindAddressNoPort = 24;

    private static readonly byte[] One = BitConverter.GetBytes(1);

    private readonly IPAddress[] _addresses;

    /// <param name="count">How many addresses; 0 leaves the kernel to choose (no bind).</param>
    /// <param name="offset">Where this worker starts in 127.0.0.2.. so workers use different addresses.</param>
    public SourceAddressPool(int count, int offset = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        _addresses = new IPAddress[count];
        for (var i = 0; i < count; i++)
        {
            _addresses[i] = LoopbackAddress(offset + i);
        }
    }

    public int Count => _addresses.Length;

    /// <summary>The n-th loopback source address: 127.0.0.2 + n, carried into the third and second octets.</summary>
    public static IPAddress LoopbackAddress(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var value = n + 2;
        if (value >= 1 << 24)
        {
            throw new ArgumentOutOfRangeException(nameof(n), n, "Beyond 127.255.255.255.");
        }

        return new IPAddress(new byte[] { 127, (byte)(value >> 16), (byte)(value >> 8), (byte)value });
    }

    /// <summary>The address client <paramref name="clientIndex"/> binds, or null to let the kernel choose.</summary>
    public IPAddress? For(int clientIndex) => _addresses.Length == 0 ? null : _addresses[clientIndex % _addresses.Length];

    /// <summary>Binds <paramref name="socket"/> to <paramref name="source"/> with port 0, deferring the port choice where Linux allows.</summary>
    public static void Bind(Socket socket, IPAddress source)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(source);
        if (OperatingSystem.IsLinux())
        {
            socket.SetRawSocketOption(SolIp, IpBindAddressNoPort, One);
        }

        socket.Bind(new IPEndPoint(source, 0));
    }
}
