using AccessLayer.Gateway.Tests.Conformance.Harness;
using YamlDotNet.RepresentationModel;

namespace AccessLayer.Gateway.Tests.Deploy;

/// <summary>
/// One overlay of deploy/k8s as <c>kubectl kustomize</c> renders it: its objects, and the gateway's
/// pod template with the environment its container starts with (ConfigMap and env entries
/// resolved the way the kubelet resolves them).
/// </summary>
internal sealed class RenderedOverlay
{
    /// <summary>Stand-ins for what only exists in a cluster: the pod IP (downward API) and Secret values.</summary>
    public const string PodIp = "10.244.1.7";
    public const string SecretValue = "a-secret-value-of-32-characters!";

    private RenderedOverlay(string name, IReadOnlyList<YamlMappingNode> objects)
    {
        Name = name;
        Objects = objects;
        Workload = objects.SingleOrDefault(o => o.Text("kind") is "StatefulSet" or "Deployment"
                && o.Items("spec", "template", "spec", "containers").Any(c => c.Text("name") == "gateway"))
            ?? throw new InvalidOperationException($"overlay {name} renders no StatefulSet or Deployment with a 'gateway' container");
        Container = Workload.Items("spec", "template", "spec", "containers").Single(c => c.Text("name") == "gateway");

        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in Container.Items("envFrom"))
        {
            var configMap = source.Text("configMapRef", "name");
            if (configMap is not null)
            {
                var rendered = Find("ConfigMap", configMap) ?? throw new InvalidOperationException($"overlay {name}: envFrom names ConfigMap {configMap}, which is not rendered");
                foreach (var (key, value) in rendered.Scalars("data"))
                {
                    environment[key] = value;
                }
            }
        }

        foreach (var variable in Container.Items("env"))
        {
            var key = variable.Text("name")!;
            if (variable.Text("value") is { } value)
            {
                environment[key] = value;
            }
            else if (variable.Text("valueFrom", "fieldRef", "fieldPath") is { } field)
            {
                FieldRefs[key] = field;
                environment[key] = field == "status.podIP" ? PodIp : field;
            }
            else if (variable.Text("valueFrom", "secretKeyRef", "name") is { } secret)
            {
                FromSecrets[key] = $"{secret}/{variable.Text("valueFrom", "secretKeyRef", "key")}";
                environment[key] = SecretValue;
            }
        }

        Environment = environment;
        ContainerPorts = Container.Items("ports").ToDictionary(p => p.Text("name") ?? p.Text("containerPort")!, p => p.Int("containerPort")!.Value, StringComparer.Ordinal);
    }

    public string Name { get; }

    public IReadOnlyList<YamlMappingNode> Objects { get; }

    /// <summary>The StatefulSet (or Deployment) running the gateway.</summary>
    public YamlMappingNode Workload { get; }

    public YamlNode Container { get; }

    /// <summary>The container's environment: ConfigMap entries, then env entries (which win).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>Variables set from a Secret (name → "secret/key").</summary>
    public Dictionary<string, string> FromSecrets { get; } = new(StringComparer.Ordinal);

    /// <summary>Variables set through the downward API (name → field path).</summary>
    public Dictionary<string, string> FieldRefs { get; } = new(StringComparer.Ordinal);

    /// <summary>The container's ports by name.</summary>
    public IReadOnlyDictionary<string, int> ContainerPorts { get; }

    public IReadOnlyDictionary<string, string> PodLabels => Workload.Scalars("spec", "template", "metadata", "labels");

    public IEnumerable<YamlMappingNode> OfKind(string kind) => Objects.Where(o => o.Text("kind") == kind);

    public YamlMappingNode? Find(string kind, string name) => OfKind(kind).SingleOrDefault(o => o.Text("metadata", "name") == name);

    /// <summary>Services whose selector picks the gateway's pods.</summary>
    public IEnumerable<YamlMappingNode> GatewayServices => OfKind("Service").Where(Selects);

    /// <summary>Whether a selector (Service spec.selector, or PDB spec.selector.matchLabels) matches the gateway's pod labels.</summary>
    public bool Selects(YamlMappingNode service)
    {
        var selector = service.Text("kind") == "Service" ? service.Scalars("spec", "selector") : service.Scalars("spec", "selector", "matchLabels");
        return selector.Count > 0 && selector.All(kv => PodLabels.TryGetValue(kv.Key, out var value) && value == kv.Value);
    }

    /// <summary>The container port a Service port's targetPort reaches (a name or a number), or null.</summary>
    public int? TargetContainerPort(YamlNode servicePort)
    {
        var target = servicePort.Text("targetPort") ?? servicePort.Text("port")!;
        return int.TryParse(target, out var number)
            ? ContainerPorts.Values.Contains(number) ? number : null
            : ContainerPorts.TryGetValue(target, out var named) ? named : null;
    }

    public static string Directory(string overlay) => Path.Combine(PeerPaths.RepoRoot, "deploy", "k8s", "overlays", overlay);

    public static RenderedOverlay Render(string overlay) => new(overlay, YamlTree.Documents(Kubectl.Kustomize(Directory(overlay))));
}
