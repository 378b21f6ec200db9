using AccessLayer.Sessions.Routing;

namespace AccessLayer.SessionGrains.Fleet;

/// <summary>
/// What one publish owes the fleet: which peers get it (for their plain subscribers and/or for the
/// shared-subscription groups the round robin picked them for), which groups stay on this node,
/// and which clients hold it durably. Reused per thread; <see cref="Clear"/> between publishes.
/// </summary>
public sealed class PublishPlan
{
    internal readonly SubscriberMatches NodeMatches = new();
    internal readonly SubscriberMatches DurableMatches = new();
    internal readonly Dictionary<string, PeerTarget> Peers = new(StringComparer.Ordinal);
    private readonly Stack<PeerTarget> _spare = new();
    private HashSet<string>? _localGroups;

    /// <summary>The id under which durable subscribers hold this message; <see cref="Guid.Empty"/> when none do.</summary>
    public Guid DurableId { get; internal set; }

    /// <summary>The durable write started for this publish (<see cref="IFleet.StartDurable"/>): completes with the failure, or null once Redis holds it.</summary>
    internal Task<Exception?>? DurableWrite { get; set; }

    /// <summary>Whether the message is retained (every peer stores it).</summary>
    public bool Retain { get; internal set; }

    /// <summary>Whether this node delivers shared-subscription group <paramref name="group"/> itself (the fleet round robin picked it).</summary>
    public bool IsLocalGroup(string group) => _localGroups is not null && _localGroups.Contains(group);

    internal void AddLocalGroup(string group) => (_localGroups ??= new HashSet<string>(StringComparer.Ordinal)).Add(group);

    /// <summary>The target for <paramref name="node"/>, added on first use; targets are reused across publishes (no allocation per publish).</summary>
    internal PeerTarget Target(string node)
    {
        if (!Peers.TryGetValue(node, out var target))
        {
            target = _spare.Count > 0 ? _spare.Pop() : new PeerTarget();
            Peers.Add(node, target);
        }

        return target;
    }

    public void Clear()
    {
        NodeMatches.Clear();
        DurableMatches.Clear();
        foreach (var target in Peers.Values)
        {
            target.Plain = false;
            target.Groups?.Clear();
            _spare.Push(target);
        }

        Peers.Clear();
        _localGroups?.Clear();
        DurableId = Guid.Empty;
        DurableWrite = null;
        Retain = false;
    }

    internal sealed class PeerTarget
    {
        public bool Plain;
        public List<string>? Groups;
    }
}
