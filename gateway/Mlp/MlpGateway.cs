using AccessLayer.Gateway.Metrics;
using AccessLayer.Gateway.Mlp.Auth;
using AccessLayer.Gateway.Mlp.Connections;
using AccessLayer.Gateway.Mlp.Dictionaries;
using AccessLayer.Gateway.Mlp.Fleet;
using AccessLayer.Gateway.Mlp.Push;
using AccessLayer.Gateway.Mlp.Routing;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Mlp;

/// <summary>Everything an MLP connection needs from the node, gathered once: options, auth, sessions (and the fleet), dictionaries, routing, metrics, clock.</summary>
internal sealed class MlpGateway
{
    public MlpGateway(
        IOptions<MlpOptions> options,
        IMlpAuthenticator authenticator,
        MlpResumeTicketProtector tickets,
        IMlpSessionStore sessions,
        MlpDictionaryStore dictionaries,
        MlpServiceRouter router,
        MlpCallCoalescer calls,
        AccessLayer.Gateway.Traffic.TrafficRouter traffic,
        MlpConnectionRegistry connections,
        MlpFleetSessions fleet,
        MlpMetrics metrics,
        GatewayMetrics gatewayMetrics,
        TimeProvider time,
        ILoggerFactory loggerFactory)
    {
        Options = options.Value;
        Authenticator = authenticator;
        Tickets = tickets;
        Sessions = sessions;
        Dictionaries = dictionaries;
        Router = router;
        Calls = calls;
        Traffic = traffic;
        Connections = connections;
        Fleet = fleet;
        Metrics = metrics;
        GatewayMetrics = gatewayMetrics;
        Time = time;
        Bodies = new MlpBodies(dictionaries, Options);
        ConnectionLogger = loggerFactory.CreateLogger<MlpConnection>();
        Logger = loggerFactory.CreateLogger<MlpGateway>();
        dictionaries.CurrentChanged += dictionary =>
        {
            var offered = connections.OfferDictionary(dictionary);
            MlpLog.DictionaryOffered(Logger, dictionary.Id, offered);
        };
    }

    public MlpOptions Options { get; }
    public IMlpAuthenticator Authenticator { get; }
    public MlpResumeTicketProtector Tickets { get; }
    public IMlpSessionStore Sessions { get; }
    public MlpDictionaryStore Dictionaries { get; }
    public MlpServiceRouter Router { get; }

    /// <summary>Runs every routed call: copies of one call (<c>mlp-call-id</c>) share one backend call.</summary>
    public MlpCallCoalescer Calls { get; }

    /// <summary>The traffic table's router: the zone cookie of a link's WELCOME.</summary>
    public AccessLayer.Gateway.Traffic.TrafficRouter Traffic { get; }
    public MlpConnectionRegistry Connections { get; }

    /// <summary>Sessions and pushes across the fleet; <see cref="MlpFleetSessions.IsEnabled"/> false when the node runs alone.</summary>
    public MlpFleetSessions Fleet { get; }
    public MlpMetrics Metrics { get; }

    /// <summary>The gateway-wide instruments (loop failures).</summary>
    public GatewayMetrics GatewayMetrics { get; }
    public TimeProvider Time { get; }
    public MlpBodies Bodies { get; }
    public ILogger ConnectionLogger { get; }
    public ILogger Logger { get; }
}
