using System.Globalization;

namespace AccessLayer.Lab;

/// <summary>
/// Creates and removes one scenario's namespaces and veth pairs (<see cref="LabTopology"/>). Removal kills
/// whatever still runs in the namespaces (the lab's own gateway, delay helpers, inner runner) and deletes
/// them, which deletes their veth ends too. <see cref="RemoveLeftovers"/> removes what runs that died
/// (crash, SIGKILL) left behind, identified by the owner process id in the names.
/// </summary>
internal sealed class LabNetwork
{
    private LabNetwork(LabTopology topology) => Topology = topology;

    public LabTopology Topology { get; }

    public static LabNetwork Create(LabTopology topology)
    {
        var network = new LabNetwork(topology);
        try
        {
            network.Build();
        }
        catch
        {
            network.Remove();
            throw;
        }

        return network;
    }

    public void Remove()
    {
        foreach (var ns in new[] { Topology.ClientNs, Topology.GatewayNs })
            RemoveNamespace(ns);
    }

    /// <summary>True when neither namespace exists any more.</summary>
    public bool IsRemoved()
    {
        var names = ListNamespaces();
        return !names.Contains(Topology.ClientNs) && !names.Contains(Topology.GatewayNs);
    }

    /// <summary>Namespaces of lab runs whose process is gone; returns the names removed.</summary>
    public static IReadOnlyList<string> RemoveLeftovers()
    {
        List<string> removed = [];
        foreach (var ns in ListNamespaces())
        {
            if (LabTopology.TryParseNamespace(ns, out var owner) && !ProcessAlive(owner))
            {
                RemoveNamespace(ns);
                removed.Add(ns);
            }
        }

        // A veth pair is created with both ends already in the namespaces; a failure between the two
        // commands could only leave an end in this namespace: remove those of dead owners too.
        foreach (var line in Shell.Run("ip", "-o", "link", "show").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(':', 3) is { Length: 3 } parts ? parts[1].Trim().Split('@')[0] : "";
            if (name.Length > 1 && name[0] == 'a' && OwnerOfVeth(name) is { } owner && !ProcessAlive(owner))
            {
                Shell.TryRun("ip", "link", "del", name);
                removed.Add(name);
            }
        }

        return removed;
    }

    public static HashSet<string> ListNamespaces() =>
        Shell.Run("ip", "netns", "list").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')[0]).ToHashSet(StringComparer.Ordinal);

    private void Build()
    {
        var t = Topology;
        Shell.Run("ip", "netns", "add", t.ClientNs);
        Shell.Run("ip", "netns", "add", t.GatewayNs);
        foreach (var ns in new[] { t.ClientNs, t.GatewayNs })
            Shell.Run("ip", "-n", ns, "link", "set", "lo", "up");
        Pair(t.RadioClientIf, t.RadioClientAddress, t.RadioGatewayIf, t.RadioGatewayAddress);
        Pair(t.HandoverClientIf, t.HandoverClientAddress, t.HandoverGatewayIf, t.HandoverGatewayAddress);
        Pair(t.MgmtClientIf, t.MgmtClientAddress, t.MgmtGatewayIf, t.MgmtGatewayAddress);
    }

    private void Pair(string clientIf, string clientAddress, string gatewayIf, string gatewayAddress)
    {
        var t = Topology;
        Shell.Run("ip", "link", "add", clientIf, "netns", t.ClientNs, "type", "veth", "peer", "name", gatewayIf, "netns", t.GatewayNs);
        Shell.Run("ip", "-n", t.ClientNs, "addr", "add", clientAddress + "/24", "dev", clientIf);
        Shell.Run("ip", "-n", t.GatewayNs, "addr", "add", gatewayAddress + "/24", "dev", gatewayIf);
        Shell.Run("ip", "-n", t.ClientNs, "link", "set", clientIf, "up");
        Shell.Run("ip", "-n", t.GatewayNs, "link", "set", gatewayIf, "up");
    }

    private static void RemoveNamespace(string ns)
    {
        if (!ListNamespaces().Contains(ns))
            return;
        // Only processes inside this lab namespace: the ones this lab (or a dead run of it) started there.
        var (code, pids, _) = Shell.TryRun("ip", "netns", "pids", ns);
        if (code == 0)
        {
            foreach (var pid in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (int.TryParse(pid.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id != Environment.ProcessId)
                    Shell.TryRun("kill", "-KILL", id.ToString(CultureInfo.InvariantCulture));
            }
        }

        Shell.TryRun("ip", "netns", "del", ns);
    }

    private static int? OwnerOfVeth(string name)
    {
        var end = 1;
        while (end < name.Length && char.IsAsciiDigit(name[end]))
            end++;
        return end > 1 && end < name.Length && name[end] is 'r' or 'h' or 'm'
            && int.TryParse(name[1..end], NumberStyles.None, CultureInfo.InvariantCulture, out var owner) ? owner : null;
    }

    private static bool ProcessAlive(int pid) => Directory.Exists($"/proc/{pid}");
}
