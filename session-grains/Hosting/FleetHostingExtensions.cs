using System.Net;
using System.Net.Sockets;
using AccessLayer.SessionGrains.Durable;
using AccessLayer.SessionGrains.Fleet;
using AccessLayer.SessionGrains.Nodes;
using AccessLayer.Sessions;
using AccessLayer.Sessions.Routing;
using AccessLayer.Sessions.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Persistence;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.Runtime.Placement;
using AccessLayer.SessionGrains.Sessions;
using StackExchange.Redis;

namespace AccessLayer.SessionGrains.Hosting;

/// <summary>
/// Makes the node an Orleans silo (co-hosted in the web host). Alone (no <c>Fleet:Redis</c>):
/// localhost clustering on a free loopback port nobody else uses, in-memory grain state, and
/// the broker calls no grain. In a fleet: Redis clustering and grain storage, the silo port
/// from <c>Fleet:SiloPort</c>, membership probes tuned to declare a dead node in about 10 s.
/// </summary>
public static class FleetHostingExtensions
{
    /// <summary>Grain storage name of session grains.</summary>
    public const string StorageName = "sessions";

    /// <summary>How long a grain activation (at most one Redis read, by an MLP grain's storage) may take.</summary>
    public static readonly TimeSpan ActivationTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Grain addresses each node caches: its peers' node grains stay (they are used all the time), session and MLP grains pass through.</summary>
    public const int DirectoryCacheSize = 1_000;

    public static WebApplicationBuilder AddFleet(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var section = builder.Configuration.GetSection(FleetOptions.SectionName);
        builder.Services.AddOptions<FleetOptions>().Bind(section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FleetOptions>, FleetOptionsValidator>());
        var fleet = section.Get<FleetOptions>() ?? new FleetOptions();

        builder.UseOrleans(silo =>
        {
            if (fleet.IsEnabled)
            {
                var redis = ConfigurationOptions.Parse(fleet.Redis!);
                silo.UseRedisClustering(options => options.ConfigurationOptions = redis.Clone());
                silo.AddRedisGrainStorage(StorageName, options =>
                {
                    options.ConfigurationOptions = redis.Clone();
                    options.DeleteStateOnClear = true;
                });
                // Orleans' binary serializer rather than its JSON default (Newtonsoft with type names): the state is small
                // and written on every connection event, so the serializer is a visible share of a CONNECT's cost.
                silo.Services.AddOptions<RedisStorageOptions>(StorageName)
                    .Configure<Serializer>((options, serializer) => options.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer));
                silo.Configure<ClusterOptions>(options =>
                {
                    options.ClusterId = fleet.ClusterId;
                    options.ServiceId = fleet.ClusterId;
                });
                silo.ConfigureEndpoints(IPAddress.Parse(fleet.AdvertisedAddress), fleet.SiloPort, gatewayPort: 0, listenOnAnyHostAddress: false);
                silo.Configure<ClusterMembershipOptions>(options =>
                {
                    options.ProbeTimeout = fleet.ProbeTimeout;
                    options.NumMissedProbesLimit = fleet.MissedProbesLimit;
                    // A fleet of two must still be able to declare its other half dead.
                    options.NumVotesForDeathDeclaration = 1;
                    options.TableRefreshTimeout = TimeSpan.FromSeconds(5);
                });
            }
            else
            {
                silo.UseLocalhostClustering(FreeLoopbackPort(), gatewayPort: 0, serviceId: fleet.ClusterId, clusterId: fleet.ClusterId);
                silo.AddMemoryGrainStorage(StorageName);
            }

            silo.Services.AddPlacementDirector<NodePlacement, NodePlacementDirector>();

            // Orleans caches the silo of every grain it addressed, a million entries by default (its table alone is
            // about 9 MB). Session and MLP grains are addressed once per connection event and deactivate right after (MLP ones within a second),
            // so their entries are never useful again and would only make idle memory grow with every client id seen.
            silo.Configure<GrainDirectoryOptions>(options => options.CacheSize = DirectoryCacheSize);

            // A stateless-worker activation leaves its activation-timeout timer (and token source) alive until the timeout
            // passes: at Orleans' 30 s that is about 0.3 KB per CONNECT still held when a connect storm has settled. Our
            // grains activate with at most one Redis read; 5 s is ample, and a claim that times out is retried by the broker.
            silo.Configure<GrainCollectionOptions>(options => options.ActivationTimeout = ActivationTimeout);
        });

        if (fleet.IsEnabled)
        {
            builder.Services.AddSingleton<IConnectionMultiplexer>(_ =>
            {
                // Redis down for a moment must not stop a node: StackExchange.Redis reconnects, durable calls time out meanwhile.
                var durable = ConfigurationOptions.Parse(fleet.Redis!);
                durable.AbortOnConnectFail = false;
                return ConnectionMultiplexer.Connect(durable);
            });
            builder.Services.AddSingleton(sp => new SessionRecords(sp.GetRequiredService<IConnectionMultiplexer>(), RedisDurableQueueOptions.KeyPrefixFor(fleet.ClusterId)));
            builder.Services.AddSingleton<IDurableQueue>(sp => new RedisDurableQueue(
                sp.GetRequiredService<IConnectionMultiplexer>(),
                new RedisDurableQueueOptions
                {
                    KeyPrefix = RedisDurableQueueOptions.KeyPrefixFor(fleet.ClusterId),
                    MaxEntriesPerClient = Math.Max(1, sp.GetRequiredService<IOptions<SessionsOptions>>().Value.MaxQueuedMessagesPerSession),
                },
                sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
                sp.GetRequiredService<ILogger<RedisDurableQueue>>(),
                sp.GetRequiredService<TimeProvider>()));

            // Registered before the broker's in-memory defaults, which are added with TryAdd.
            builder.Services.AddSingleton<ISubscriptionRouter, FleetSubscriptionRouter>();
            builder.Services.AddSingleton<IDeliveryAcknowledgements, FleetAcknowledgements>();
        }

        builder.Services.AddSingleton<FleetNode>();
        builder.Services.AddSingleton<IFleet>(sp => sp.GetRequiredService<FleetNode>());
        builder.Services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<FleetNode>());
        return builder;
    }

    private static int FreeLoopbackPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
