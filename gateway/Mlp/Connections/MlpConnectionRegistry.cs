using System.Collections.Concurrent;
using AccessLayer.Gateway.Mlp.Push;
using AccessLayer.Protocol.Compression;

namespace AccessLayer.Gateway.Mlp.Connections;

/// <summary>Every open MLP connection, and the one that holds each device's session (at most one: a newer one takes over).</summary>
internal sealed class MlpConnectionRegistry
{
    private readonly ConcurrentDictionary<MlpConnection, byte> _all = new();
    private readonly ConcurrentDictionary<string, MlpConnection> _byDevice = new(StringComparer.Ordinal);

    public IEnumerable<MlpConnection> All => _all.Keys;

    public int DeviceCount => _byDevice.Count;

    /// <summary>The connection that holds each device's session: one per device (a secondary link holds none).</summary>
    public IEnumerable<MlpConnection> Devices => _byDevice.Values;

    public void Add(MlpConnection connection) => _all.TryAdd(connection, 0);

    public void Remove(MlpConnection connection)
    {
        _all.TryRemove(connection, out _);
        if (connection.DeviceId is { } device)
            _byDevice.TryRemove(new KeyValuePair<string, MlpConnection>(device, connection));
    }

    /// <summary>Makes <paramref name="connection"/> the device's; returns the connection it replaced, if any.</summary>
    public MlpConnection? Bind(string deviceId, MlpConnection connection)
    {
        MlpConnection? previous = null;
        _byDevice.AddOrUpdate(deviceId, connection, (_, old) =>
        {
            previous = old;
            return connection;
        });
        return ReferenceEquals(previous, connection) ? null : previous;
    }

    public bool TryGetDevice(string deviceId, out MlpConnection connection) => _byDevice.TryGetValue(deviceId, out connection!);

    /// <summary>Tells the device's connection, if any, that pushes wait in its session.</summary>
    public bool NotifyPushes(string deviceId)
    {
        if (!_byDevice.TryGetValue(deviceId, out var connection))
            return false;
        connection.PostPumpPushes();
        return true;
    }

    /// <summary>Best-effort push to a connected device; false when it is offline.</summary>
    public bool TrySendUnsequenced(string deviceId, MlpPushMessage push)
    {
        if (!_byDevice.TryGetValue(deviceId, out var connection))
            return false;
        return connection.PostUnsequencedPush(push);
    }

    public int OfferDictionary(ZstdDictionary dictionary)
    {
        var count = 0;
        foreach (var connection in _byDevice.Values)
        {
            if (connection.OfferDictionary(dictionary))
                count++;
        }

        return count;
    }
}
