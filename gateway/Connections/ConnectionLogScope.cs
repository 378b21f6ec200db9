using System.Collections;

namespace AccessLayer.Gateway.Connections;

/// <summary>
/// The logging scope of one client connection, begun once when the connection starts and ended when it ends (one
/// object and one scope per connection, nothing per message): every log line written on the connection's own path
/// (its reader and what that calls) carries <c>ConnectionId</c>, the client's id (<c>ClientId</c> for MQTT,
/// <c>DeviceId</c> for MLP) and <c>NodeId</c>. The id is read when a line is written, so lines after the CONNECT or
/// HELLO carry it and earlier ones carry it empty. A connection's writer runs on the thread pool without it.
/// </summary>
internal abstract class ConnectionLogScope : IReadOnlyList<KeyValuePair<string, object?>>
{
    public const string ConnectionIdKey = "ConnectionId";
    public const string NodeIdKey = "NodeId";

    /// <summary><c>ClientId</c> or <c>DeviceId</c>.</summary>
    protected abstract string IdKey { get; }

    protected abstract string? Id { get; }

    protected abstract string ConnectionId { get; }

    protected abstract string NodeId { get; }

    public int Count => 3;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new(IdKey, Id),
        1 => new(NodeIdKey, NodeId),
        2 => new(ConnectionIdKey, ConnectionId),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
            yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>What a text logger with scopes on prints.</summary>
    public override string ToString() => $"{IdKey}:{Id} {NodeIdKey}:{NodeId} {ConnectionIdKey}:{ConnectionId}";
}
