using System.Globalization;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Management;
using AccessLayer.Gateway.Mlp;
using AccessLayer.SessionGrains.Hosting;
using Microsoft.Extensions.Hosting;

namespace AccessLayer.Gateway.Tests.Deploy;

/// <summary>
/// deploy/k8s: every overlay rendered by the real kubectl (kustomize), its output checked against
/// what the gateway really serves, reads and does on SIGTERM. No cluster runs here; this is what
/// can be known without one.
/// </summary>
public sealed class KustomizeOverlayTests
{
    private static readonly string[] OverlayNames = ["dev", "fleet"];

    public static TheoryData<string> Overlays => new(OverlayNames);

    [Fact]
    public void Every_overlay_in_the_repository_is_checked_here()
    {
        // A new overlay must be added to Overlays, or it would ship unchecked.
        var present = Directory.GetDirectories(Path.GetDirectoryName(RenderedOverlay.Directory("dev"))!).Select(Path.GetFileName).Order();
        Assert.Equal(OverlayNames.Order(), present);
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void Probes_point_at_the_management_port_paths_the_gateway_serves_without_a_token(string overlay)
    {
        var rendered = RenderedOverlay.Render(overlay);
        var management = GatewaySettings.Bind<ManagementOptions>(rendered.Environment).Port;
        var served = GatewaySettings.UnauthenticatedManagementPaths;

        foreach (var (probe, path) in new[] { ("readinessProbe", "/readyz"), ("livenessProbe", "/healthz") })
        {
            var get = rendered.Container.At(probe, "httpGet");
            Assert.True(get is not null, $"{overlay}: the gateway container has no {probe}.httpGet");
            Assert.Equal(path, get.Text("path"));
            Assert.Contains(path, served);
            var port = get.Text("port")!;
            var number = int.TryParse(port, out var n) ? n : rendered.ContainerPorts.GetValueOrDefault(port);
            Assert.True(number == management, $"{overlay}: {probe} goes to port {port} ({number}), the management port is {management}");
        }

        // A startup probe, when present, must be one of the same paths: liveness holds off until it passes.
        if (rendered.Container.At("startupProbe", "httpGet") is { } startup)
        {
            Assert.Contains(startup.Text("path")!, served);
        }
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void PreStop_waits_without_curl_and_the_grace_period_covers_the_drain_on_SIGTERM(string overlay)
    {
        var rendered = RenderedOverlay.Render(overlay);
        var preStop = rendered.Container.At("lifecycle", "preStop");
        Assert.True(preStop is not null, $"{overlay}: no preStop hook");

        // The runtime image (deploy/Dockerfile) has no curl or wget; a hook calling them fails and
        // the kubelet goes on to SIGTERM at once.
        var command = preStop.Items("exec", "command").Select(c => ((YamlDotNet.RepresentationModel.YamlScalarNode)c).Value!).ToList();
        Assert.DoesNotContain(command, c => c.Contains("curl", StringComparison.Ordinal) || c.Contains("wget", StringComparison.Ordinal));
        var preStopSeconds = command is ["sleep", var seconds] ? int.Parse(seconds, CultureInfo.InvariantCulture)
            : preStop.Int("sleep", "seconds") ?? throw new Xunit.Sdk.XunitException($"{overlay}: preStop is neither `sleep N` nor a sleep action: [{string.Join(' ', command)}]");

        // SIGTERM drains (Drain:OnShutdown) for at most Drain:ShutdownTimeout, inside the host's own
        // shutdown timeout, which bounds the whole stop (drain, listeners, silo leaving the fleet).
        var drain = GatewaySettings.Bind<DrainOptions>(rendered.Environment);
        Assert.True(drain.OnShutdown, $"{overlay}: Drain__OnShutdown is off, so SIGTERM would cut every connection");
        var hostStop = new HostOptions().ShutdownTimeout;
        var stop = drain.ShutdownTimeout > hostStop ? drain.ShutdownTimeout : hostStop;
        var grace = rendered.Workload.Int("spec", "template", "spec", "terminationGracePeriodSeconds") ?? 30;
        Assert.True(grace >= preStopSeconds + stop.TotalSeconds,
            $"{overlay}: terminationGracePeriodSeconds {grace} < preStop {preStopSeconds} s + stop {stop.TotalSeconds} s (drain {drain.ShutdownTimeout.TotalSeconds} s, host {hostStop.TotalSeconds} s)");
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void Container_ports_are_the_listeners_the_settings_open(string overlay)
    {
        var rendered = RenderedOverlay.Render(overlay);
        var env = rendered.Environment;
        var mqtt = GatewaySettings.Bind<MqttOptions>(env);
        var http = GatewaySettings.Bind<HttpOptions>(env);
        var tls = !string.IsNullOrEmpty(env.GetValueOrDefault("Tls__CertificatePath"));
        var expected = new Dictionary<string, int>
        {
            ["mqtt"] = mqtt.Port,
            ["mlp"] = GatewaySettings.Bind<MlpOptions>(env).Port,
            ["http"] = http.Port,
            ["management"] = GatewaySettings.Bind<ManagementOptions>(env).Port,
            ["silo"] = GatewaySettings.Bind<FleetOptions>(env).SiloPort,
        };
        if (tls)
        {
            // The TLS listeners open only with a certificate (docs/configuration.md).
            expected["mqtt-tls"] = mqtt.TlsPort;
            expected["https"] = http.TlsPort;
        }

        Assert.Equal(expected.OrderBy(kv => kv.Key), rendered.ContainerPorts.OrderBy(kv => kv.Key));
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void The_management_port_is_never_exposed_outside_the_cluster(string overlay)
    {
        var rendered = RenderedOverlay.Render(overlay);
        var management = GatewaySettings.Bind<ManagementOptions>(rendered.Environment).Port;
        Assert.Null(rendered.Container.Items("ports").FirstOrDefault(p => p.Int("containerPort") == management)?.Text("hostPort"));
        Assert.Null(rendered.Workload.Text("spec", "template", "spec", "hostNetwork") is "true" ? "hostNetwork" : null);

        var reaching = rendered.GatewayServices.Where(s => s.Items("spec", "ports").Any(p => rendered.TargetContainerPort(p) == management)).ToList();
        Assert.NotEmpty(reaching); // Prometheus and push backends need one in-cluster Service.
        foreach (var service in reaching)
        {
            var name = service.Text("metadata", "name");
            var type = service.Text("spec", "type") ?? "ClusterIP";
            Assert.True(type == "ClusterIP", $"{overlay}: Service {name} exposes the management port and is {type}");
            Assert.Empty(service.Items("spec", "externalIPs"));
            Assert.Null(service.Text("spec", "externalName"));
        }

        // Neither may an Ingress route to a Service that reaches it.
        var names = reaching.Select(s => s.Text("metadata", "name")).ToHashSet();
        Assert.DoesNotContain(rendered.OfKind("Ingress"), ingress => ingress.AllNodes.OfType<YamlDotNet.RepresentationModel.YamlScalarNode>().Any(n => names.Contains(n.Value)));
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void Devices_reach_mqtt_mlp_and_websocket_through_a_node_port_or_load_balancer(string overlay)
    {
        var rendered = RenderedOverlay.Render(overlay);
        var external = rendered.GatewayServices.Where(s => s.Text("spec", "type") is "NodePort" or "LoadBalancer").ToList();
        var service = Assert.Single(external);
        var reached = service.Items("spec", "ports").Select(p => rendered.TargetContainerPort(p)).ToList();
        Assert.DoesNotContain(null, reached);

        var wanted = new List<string> { "mqtt", "mlp", "http" };
        if (rendered.ContainerPorts.ContainsKey("mqtt-tls"))
        {
            wanted.AddRange(["mqtt-tls", "https"]);
        }

        Assert.Equal(wanted.Select(n => (int?)rendered.ContainerPorts[n]).Order(), reached.Order());
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void Settings_are_options_the_gateway_binds_and_secrets_come_from_secrets(string overlay)
    {
        var rendered = RenderedOverlay.Render(overlay);
        Assert.Empty(GatewaySettings.Problems(rendered.Environment));

        // Probes come from the kubelet, on the pod IP: a loopback management listener fails them all.
        Assert.DoesNotContain(GatewaySettings.Bind<ManagementOptions>(rendered.Environment).BindAddress, new[] { "127.0.0.1", "localhost", "::1" });
        Assert.Equal("accesslayer-gateway/management-token", rendered.FromSecrets.GetValueOrDefault("Management__Token"));
        Assert.Equal("status.podIP", rendered.FieldRefs.GetValueOrDefault("Fleet__AdvertisedAddress"));
        if (rendered.Environment.ContainsKey("Mlp__TicketSecret"))
        {
            Assert.True(rendered.FromSecrets.ContainsKey("Mlp__TicketSecret"), $"{overlay}: Mlp__TicketSecret is written in the manifests");
        }
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void A_fleet_overlay_runs_several_nodes_on_a_redis_it_can_reach(string overlay)
    {
        var rendered = RenderedOverlay.Render(overlay);
        var fleet = GatewaySettings.Bind<FleetOptions>(rendered.Environment);
        var replicas = rendered.Workload.Int("spec", "replicas") ?? 1;
        if (!fleet.IsEnabled)
        {
            Assert.Equal(1, replicas); // Without Redis every pod would be a fleet of its own.
            return;
        }

        Assert.True(replicas >= 2, $"{overlay}: a fleet of {replicas}");
        var (host, port) = (fleet.Redis![..fleet.Redis!.LastIndexOf(':')], int.Parse(fleet.Redis[(fleet.Redis.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture));
        if (!host.Contains('.', StringComparison.Ordinal))
        {
            // A bare name is a Service in the same namespace: it must be rendered, with that port.
            var service = rendered.Find("Service", host);
            Assert.True(service is not null, $"{overlay}: Fleet__Redis names Service {host}, which is not rendered");
            Assert.Contains(port, service.Items("spec", "ports").Select(p => p.Int("port")));
        }
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void A_pod_disruption_budget_takes_at_most_one_gateway_pod_and_never_blocks_a_node_drain(string overlay)
    {
        var rendered = RenderedOverlay.Render(overlay);
        var budget = Assert.Single(rendered.OfKind("PodDisruptionBudget"), rendered.Selects);
        var replicas = rendered.Workload.Int("spec", "replicas") ?? 1;
        var allowed = budget.Int("spec", "maxUnavailable") ?? replicas - (budget.Int("spec", "minAvailable") ?? replicas);
        Assert.Equal(1, allowed);
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void Memory_and_cpu_are_requested_and_the_memory_limit_holds_the_request(string overlay)
    {
        var rendered = RenderedOverlay.Render(overlay);
        var resources = rendered.Container.At("resources");
        Assert.NotNull(resources.Text("requests", "cpu"));
        var request = Bytes(resources.Text("requests", "memory"));
        var limit = Bytes(resources.Text("limits", "memory"));
        Assert.True(request > 0 && limit >= request, $"{overlay}: memory request {request}, limit {limit}");
    }

    private static long Bytes(string? quantity) => quantity switch
    {
        null => 0,
        _ when quantity.EndsWith("Gi", StringComparison.Ordinal) => long.Parse(quantity[..^2], CultureInfo.InvariantCulture) << 30,
        _ when quantity.EndsWith("Mi", StringComparison.Ordinal) => long.Parse(quantity[..^2], CultureInfo.InvariantCulture) << 20,
        _ when quantity.EndsWith("Ki", StringComparison.Ordinal) => long.Parse(quantity[..^2], CultureInfo.InvariantCulture) << 10,
        _ => long.Parse(quantity, CultureInfo.InvariantCulture),
    };
}
