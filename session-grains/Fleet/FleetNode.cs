using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AccessLayer.SessionGrains.Durable;
using AccessLayer.SessionGrains.Forwarding;
using AccessLayer.SessionGrains.Hosting;
using AccessLayer.SessionGrains.Nodes;
using AccessLayer.SessionGrains.Routes;
using AccessLayer.SessionGrains.Sessions;
using AccessLayer.Sessions;
using AccessLayer.Sessions.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AccessLayer.SessionGrains.Fleet;

/// <summary>
/// This node's part in the fleet: its peers (from Orleans membership), the replicated route table,
/// a route sender and a forwarder per peer, and the session claims. Alone, it stays idle and
/// <see cref="IsEnabled"/> is false.
/// </summary>
internal sealed partial class FleetNode : IFleet, IHostedService, IDisposable
{
    private readonly FleetOptions _options;
    private readonly IServiceProvider _services;
    private readonly ILogger<FleetNode> _logger;
    private readonly TimeProvider _time;
    private readonly RouteTable _routes;
    private readonly FleetMetrics _metrics;
    private readonly IDurableQueue? _durable;
    private readonly SessionRecords? _records;
    private readonly Lock _routeGate = new();
    private readonly ConcurrentDictionary<string, Peer> _peers = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private IFleetLocalNode? _local;
    private IGrainFactory? _grains;
    private string _nodeId = string.Empty;
    private Task _membership = Task.CompletedTask;
    private ForwardListener? _links;

    public FleetNode(
        IOptions<FleetOptions> options,
        IOptions<SessionsOptions> sessionsOptions,
        IServiceProvider services,
        IMeterFactory meterFactory,
        TimeProvider time,
        ILogger<FleetNode> logger)
    {
        _time = time;
        _options = options.Value;
        _services = services;
        _logger = logger;
        _routes = new RouteTable(sessionsOptions);
        _durable = _options.IsEnabled ? services.GetService<IDurableQueue>() : null;
        _records = _options.IsEnabled ? services.GetService<SessionRecords>() : null;
        _metrics = new FleetMetrics(meterFactory, () => _peers.Count + 1, () => _routes.Count, () => _routes.LocalCount, () => _routes.DurableCount);
        Ready = _options.IsEnabled ? _ready.Task : Task.CompletedTask;
    }

    public bool IsEnabled => _options.IsEnabled;

    public string NodeId => _nodeId;

    public Task Ready { get; }

    private IFleetLocalNode Local => _local ?? throw new InvalidOperationException("No protocol attached to the fleet node.");

    private IGrainFactory Grains => _grains ?? throw new InvalidOperationException("The fleet node has not started.");

    private SessionRecords Records => _records ?? throw new InvalidOperationException("The fleet is not enabled.");

    public void Attach(IFleetLocalNode local) => _local = local;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var silo = _services.GetRequiredService<ILocalSiloDetails>();
        _nodeId = silo.SiloAddress.ToParsableString();
        _grains = _services.GetRequiredService<IGrainFactory>();
        if (!IsEnabled)
        {
            return;
        }

        if (_durable is not null)
        {
            // Durable rows outlive the nodes that wrote them: a publisher here must find the persistent
            // subscribers of sessions whose node died before anyone resumed them.
            foreach (var (clientId, encoded) in await _durable.LoadSubscriptionsAsync(cancellationToken).ConfigureAwait(false))
            {
                _routes.LoadDurable(clientId, FleetCodec.DecodeSubscriptions(encoded));
            }
        }

        if (_services.GetService<StackExchange.Redis.IConnectionMultiplexer>() is { } redis)
        {
            StartOrphanSweeper(new Orphans.OrphanLedger(redis, RedisDurableQueueOptions.KeyPrefixFor(_options.ClusterId)));
        }

        if (_options.ForwardPort >= 0)
        {
            // Bound before the peers learn of this node, so the first one to ask for its endpoint finds it.
            _links = new ForwardListener(System.Net.IPAddress.Parse(_options.AdvertisedAddress), _options.ForwardPort, _options.ClusterId, batch => DeliverBatchAsync(batch), _logger);
            _links.Start();
        }

        var membership = _services.GetRequiredService<IClusterMembershipService>();
        OnMembership(membership.CurrentSnapshot);
        _membership = Task.Run(() => WatchMembershipAsync(membership), CancellationToken.None);
        await CopyRetainedAsync(cancellationToken).ConfigureAwait(false);
        FleetLog.Joined(_logger, _nodeId, _options.ClusterId);
        _ready.TrySetResult();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var peer in _peers.Values)
        {
            await peer.StopAsync().ConfigureAwait(false);
        }

        _peers.Clear();
        if (_links is not null)
        {
            await _links.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            await _membership.WaitAsync(cancellationToken).ConfigureAwait(false);
            await _sweeper.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose()
    {
        _routes.Dispose();
        _stop.Dispose();
    }

    /// <summary>Node rows of the fleet, for the admin API.</summary>
    public IReadOnlyList<(string Node, string Filter)> RouteRows() => _routes.Rows();

    public NodeInfo Describe() => Local.Describe(_nodeId) with { LocalRoutes = _routes.LocalCount, ForwardEndpoint = _links?.Endpoint };

    public async Task<IReadOnlyList<NodeInfo>> DescribeFleetAsync(CancellationToken cancellationToken = default)
    {
        var nodes = new List<NodeInfo> { Describe() };
        foreach (var peer in _peers.Values)
        {
            try
            {
                nodes.Add(await peer.Grain.GetInfoAsync().WaitAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false));
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Unreachable (dying or partitioned): not listed as active.
            }
        }

        return nodes;
    }

    /// <summary>A peer's retained messages, encoded as a forward batch.</summary>
    public async Task<byte[]> ExportRetainedAsync()
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        foreach (var message in await Local.ExportRetainedAsync().ConfigureAwait(false))
        {
            FleetCodec.WriteForwarded(writer, new ForwardedMessage(message, null, PlainSubscribers: false, [], Guid.Empty));
        }

        return writer.WrittenSpan.ToArray();
    }

    /// <summary>A node that joins copies the retained messages of one peer (each node keeps them all; publishes after this arrive forwarded).</summary>
    private async Task CopyRetainedAsync(CancellationToken cancellationToken)
    {
        foreach (var peer in _peers.Values)
        {
            try
            {
                var batch = await peer.Grain.GetRetainedAsync().WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
                foreach (var message in FleetCodec.ReadBatch(batch))
                {
                    await Local.ImportRetainedAsync(message.Message).ConfigureAwait(false);
                }

                FleetLog.RetainedCopied(_logger, peer.Id);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                FleetLog.RouteSendFailed(_logger, peer.Id, "retained copy: " + ex.Message);
            }
        }
    }

    private async Task WatchMembershipAsync(IClusterMembershipService membership)
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(_stop.Token).ConfigureAwait(false))
                {
                    OnMembership(snapshot);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                FleetLog.MembershipWatchFailed(_logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), _stop.Token).ConfigureAwait(false);
            }
        }
    }

    private void OnMembership(ClusterMembershipSnapshot snapshot)
    {
        foreach (var member in snapshot.Members.Values)
        {
            var id = member.SiloAddress.ToParsableString();
            if (id == _nodeId)
            {
                continue;
            }

            if (member.Status == SiloStatus.Active)
            {
                if (!_peers.ContainsKey(id))
                {
                    AddPeer(id);
                }
            }
            else if ((member.Status is SiloStatus.Dead or SiloStatus.ShuttingDown or SiloStatus.Stopping) && _peers.TryRemove(id, out var gone))
            {
                FleetLog.PeerGone(_logger, id, member.Status.ToString());
                _routes.RemoveNode(id);
                _ = gone.StopAsync();
                OnPeerLeft(id);
            }
        }
    }

    private void AddPeer(string id)
    {
        var grain = Grains.GetGrain<INodeGrain>(id);
        var sender = new RouteSender(_nodeId, id, grain, () => _routes.Snapshot(_nodeId), _routeGate, _logger);
        var forwarder = new NodeForwarder(id, new PeerLink(id, grain, _options.ClusterId, _time, _logger, 2L * _options.ForwardBatchBytes), _options.ForwardBatchMessages, _options.ForwardBatchBytes, _options.ForwardQueueMessages, _time, _metrics, _logger);
        var peer = new Peer(id, grain, sender, forwarder);
        if (_peers.TryAdd(id, peer))
        {
            FleetLog.PeerActive(_logger, id);
            sender.Start();
            forwarder.Start();
        }
    }

    private sealed record Peer(string Id, INodeGrain Grain, RouteSender Routes, NodeForwarder Forwarder)
    {
        public async Task StopAsync()
        {
            await Routes.StopAsync().ConfigureAwait(false);
            await Forwarder.StopAsync().ConfigureAwait(false);
            Routes.Dispose();
            Forwarder.Dispose();
        }
    }
}
