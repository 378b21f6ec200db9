using System.Net;
using System.Text.RegularExpressions;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Management;
using AccessLayer.Gateway.Tests.Conformance.Harness;
using AccessLayer.SessionGrains.Hosting;
using Microsoft.Extensions.Hosting;
using YamlDotNet.RepresentationModel;

namespace AccessLayer.Gateway.Tests.Deploy;

/// <summary>
/// deploy/docker-compose.yml, parsed: no Docker daemon (nor the compose plugin) exists here, so
/// what `docker compose config` would check, and what the gateway would refuse at start, is
/// checked against the gateway's own options.
/// </summary>
public sealed class DockerComposeTests
{
    private static readonly YamlMappingNode Compose =
        YamlTree.Documents(File.ReadAllText(Path.Combine(PeerPaths.RepoRoot, "deploy", "docker-compose.yml"))).Single();

    private static IReadOnlyList<(string Name, YamlNode Service)> Gateways =>
        [.. ((YamlMappingNode)Compose.At("services")!).Children
            .Select(kv => (Name: ((YamlScalarNode)kv.Key).Value!, Service: kv.Value))
            .Where(s => s.Service.Text("image")?.StartsWith("accesslayer-gateway", StringComparison.Ordinal) == true)];

    /// <summary>A service's environment with ${VAR...} interpolations replaced by a value, as compose would with the variables set.</summary>
    private static Dictionary<string, string> Environment(YamlNode service) =>
        service.Scalars("environment").ToDictionary(kv => kv.Key, kv => Regex.Replace(kv.Value, @"\$\{[^}]+\}", RenderedOverlay.SecretValue), StringComparer.Ordinal);

    [Fact]
    public void Three_gateway_nodes_share_one_redis_and_cluster_id()
    {
        var gateways = Gateways;
        Assert.Equal(3, gateways.Count);
        var fleets = gateways.Select(g => GatewaySettings.Bind<FleetOptions>(Environment(g.Service))).ToList();
        Assert.All(fleets, f => Assert.True(f.IsEnabled));
        Assert.Single(fleets.Select(f => f.Redis).Distinct());
        Assert.Single(fleets.Select(f => f.ClusterId).Distinct());

        var redisHost = fleets[0].Redis![..fleets[0].Redis!.LastIndexOf(':')];
        Assert.NotNull(Compose.At("services", redisHost));
        Assert.All(gateways, g => Assert.NotNull(g.Service.At("depends_on", redisHost)));
    }

    [Fact]
    public void Each_node_advertises_its_own_fixed_address_and_silo_port()
    {
        var subnet = Compose.Items("networks", "fleet", "ipam", "config")[0].Text("subnet")!;
        var network = IPNetwork.Parse(subnet);
        var advertised = new List<string>();
        foreach (var (name, service) in Gateways)
        {
            var fleet = GatewaySettings.Bind<FleetOptions>(Environment(service));
            // Fleet:AdvertisedAddress must be an IP (checked at start), and it must be the container's.
            Assert.Equal(service.Text("networks", "fleet", "ipv4_address"), fleet.AdvertisedAddress);
            Assert.True(network.Contains(IPAddress.Parse(fleet.AdvertisedAddress)), $"{name}: {fleet.AdvertisedAddress} is outside {subnet}");
            advertised.Add($"{fleet.AdvertisedAddress}:{fleet.SiloPort}");
        }

        Assert.Equal(advertised.Count, advertised.Distinct().Count());
        Assert.Equal(Gateways.Count, Gateways.Select(g => GatewaySettings.Bind<FleetOptions>(Environment(g.Service)).SiloPort).Distinct().Count());
    }

    [Fact]
    public void Settings_are_options_the_gateway_binds_and_the_token_comes_from_the_environment()
    {
        foreach (var (name, service) in Gateways)
        {
            Assert.Empty(GatewaySettings.Problems(Environment(service)).Select(p => $"{name}: {p}"));
            Assert.Matches(@"^\$\{MANAGEMENT_TOKEN[:?}]", service.Text("environment", "Management__Token"));
            Assert.Matches(@"^\$\{MLP_TICKET_SECRET[:?}]", service.Text("environment", "Mlp__TicketSecret"));
        }
    }

    [Fact]
    public void Devices_get_distinct_host_ports_and_management_is_published_on_loopback_only()
    {
        var hostPorts = new List<string>();
        foreach (var (name, service) in Gateways)
        {
            var env = Environment(service);
            var management = GatewaySettings.Bind<ManagementOptions>(env);
            Assert.NotEqual("127.0.0.1", management.BindAddress); // else nothing outside the container reaches it
            foreach (var mapping in service.Items("ports").Select(p => ((YamlScalarNode)p).Value!))
            {
                var parts = mapping.Split(':');
                var container = int.Parse(parts[^1]);
                hostPorts.Add(parts[^2]);
                if (container == management.Port)
                {
                    Assert.True(parts is ["127.0.0.1", _, _], $"{name}: management port published as {mapping}, not on the host's loopback");
                }
            }
        }

        Assert.Equal(hostPorts.Count, hostPorts.Distinct().Count());
    }

    [Fact]
    public void Docker_waits_for_the_drain_before_killing_a_node()
    {
        foreach (var (name, service) in Gateways)
        {
            var drain = GatewaySettings.Bind<DrainOptions>(Environment(service));
            var hostStop = new HostOptions().ShutdownTimeout;
            var stop = drain.ShutdownTimeout > hostStop ? drain.ShutdownTimeout : hostStop;
            var grace = service.Text("stop_grace_period") is { } text ? TimeSpan.FromSeconds(int.Parse(text.TrimEnd('s'))) : TimeSpan.FromSeconds(10);
            Assert.True(grace >= stop, $"{name}: stop_grace_period {grace.TotalSeconds} s < {stop.TotalSeconds} s the stop may take");
        }
    }

    [Fact]
    public void Every_node_runs_the_image_the_first_one_builds_from_deploy_Dockerfile()
    {
        var built = Gateways.Where(g => g.Service.At("build") is not null).ToList();
        var (_, builder) = Assert.Single(built);
        Assert.Equal("deploy/Dockerfile", builder.Text("build", "dockerfile"));
        Assert.True(File.Exists(Path.GetFullPath(Path.Combine(PeerPaths.RepoRoot, "deploy", builder.Text("build", "context")!, builder.Text("build", "dockerfile")!))));
        Assert.Single(Gateways.Select(g => g.Service.Text("image")).Distinct());
    }
}
