using System.Diagnostics;
using System.Globalization;

namespace AccessLayer.Lab;

/// <summary>How the mobile path behaves in the steady state of a scenario (per direction).</summary>
internal sealed record PathProfile(int DelayMs = 0, int JitterMs = 0, int RateKbit = 0, double LossPercent = 0, int NatIdleSeconds = 0)
{
    public static PathProfile Clean { get; } = new();

    public override string ToString()
    {
        List<string> parts = [];
        if (DelayMs > 0)
            parts.Add($"RTT {2 * DelayMs} ms" + (JitterMs > 0 ? $" ±{JitterMs}" : ""));
        if (RateKbit > 0)
            parts.Add($"{RateKbit} kbit/s");
        if (LossPercent > 0)
            parts.Add($"{LossPercent.ToString(CultureInfo.InvariantCulture)}% loss each way");
        if (NatIdleSeconds > 0)
            parts.Add($"NAT forgets idle flows after {NatIdleSeconds} s");
        return parts.Count == 0 ? "clean" : string.Join(", ", parts);
    }
}

/// <summary>
/// The impairments of one scenario, applied to the mobile interfaces (radio and handover) of both
/// namespaces, each on the receiving side so that nothing is held against the sender's socket:
/// <list type="bullet">
/// <item>bandwidth and queueing delay: <c>tc qdisc tbf</c> on each egress;</item>
/// <item>random loss: <c>iptables -m statistic --mode random</c> DROP on INPUT;</item>
/// <item>latency and jitter: INPUT to NFQUEUE 1, released late by <c>nfq_delay.py</c> (one per namespace);</item>
/// <item>NAT idle timeout: conntrack with <c>nf_conntrack_tcp_loose=0</c> and the established timeout set to
/// N s, packets of a forgotten flow are INVALID and dropped on INPUT (a new connection passes);</item>
/// <item>blackhole: INPUT DROP of everything, inserted first; reset: every TCP segment reaching the gateway answered with a RST.</item>
/// </list>
/// </summary>
internal sealed class Impairments(LabTopology topology, string delayScript) : IDisposable
{
    private const int Queue = 1;
    private readonly List<Process> _delays = [];
    private readonly HashSet<string> _blackholes = [];
    private bool _reset;

    /// <summary>
    /// <c>LAB_GATEWAY_TCP_RECOVERY=n</c>: <c>net.ipv4.tcp_recovery</c> in the gateway's namespace (a host setting of a gateway node, not
    /// a socket's): 1 is the kernel's default (RACK with a reordering window that widens after DSACKs), 5 adds
    /// RACK_STATIC_REO_WND (the window stays at a quarter of the minimum RTT). Unset: the kernel's default.
    /// </summary>
    public static readonly string? GatewayTcpRecovery = Environment.GetEnvironmentVariable("LAB_GATEWAY_TCP_RECOVERY");

    public void Apply(PathProfile profile)
    {
        if (GatewayTcpRecovery is { Length: > 0 } recovery)
            Shell.InNamespace(topology.GatewayNs, "sysctl", "-q", "-w", $"net.ipv4.tcp_recovery={recovery}");
        foreach (var ns in new[] { topology.ClientNs, topology.GatewayNs })
        {
            if (profile.NatIdleSeconds > 0)
            {
                Shell.InNamespace(ns, "sysctl", "-q", "-w", "net.netfilter.nf_conntrack_tcp_loose=0",
                    $"net.netfilter.nf_conntrack_tcp_timeout_established={profile.NatIdleSeconds}");
            }
        }

        foreach (var (ns, dev) in topology.MobileInterfaces)
        {
            if (profile.NatIdleSeconds > 0)
                Shell.Iptables(ns, "-A", "INPUT", "-i", dev, "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP");
            if (profile.LossPercent > 0)
            {
                Shell.Iptables(ns, "-A", "INPUT", "-i", dev, "-m", "statistic", "--mode", "random",
                    "--probability", (profile.LossPercent / 100).ToString("0.####", CultureInfo.InvariantCulture), "-j", "DROP");
            }

            if (profile.DelayMs > 0)
                Shell.Iptables(ns, "-A", "INPUT", "-i", dev, "-j", "NFQUEUE", "--queue-num", Queue.ToString(CultureInfo.InvariantCulture), "--queue-bypass");
            if (profile.RateKbit > 0)
            {
                // Burst of ~10 full packets; at most 400 ms of queue before tbf drops (a radio's buffer).
                Shell.InNamespace(ns, "tc", "qdisc", "replace", "dev", dev, "root", "tbf", "rate", $"{profile.RateKbit}kbit",
                    "burst", "15kb", "latency", "400ms");
            }
        }

        if (profile.DelayMs > 0)
        {
            foreach (var ns in new[] { topology.ClientNs, topology.GatewayNs })
                StartDelay(ns, profile.DelayMs, profile.JitterMs);
        }
    }

    /// <summary>Silently drops everything arriving on <paramref name="which"/> ("radio" or "handover") on both sides.</summary>
    public void Blackhole(string which, bool on)
    {
        if (on == _blackholes.Contains(which))
            return;
        foreach (var (ns, dev) in Interfaces(which))
            Shell.Iptables(ns, [.. Position(on), "-i", dev, "-j", "DROP"]);
        if (on)
            _blackholes.Add(which);
        else
            _blackholes.Remove(which);
    }

    /// <summary>Every TCP segment from the client reaching the gateway over the radio is answered with a RST.</summary>
    public void Reset(bool on)
    {
        if (on == _reset)
            return;
        Shell.Iptables(topology.GatewayNs, [.. Position(on), "-i", topology.RadioGatewayIf, "-p", "tcp",
            "-j", "REJECT", "--reject-with", "tcp-reset"]);
        _reset = on;
    }

    public void Dispose()
    {
        foreach (var process in _delays)
        {
            try
            {
                process.Kill();
                process.WaitForExit(2000);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            process.Dispose();
        }

        _delays.Clear();
    }

    // Inserted first in INPUT (before loss, delay and NAT rules), removed by the same specification.
    private static string[] Position(bool insert) => insert ? ["-I", "INPUT", "1"] : ["-D", "INPUT"];

    private IEnumerable<(string Ns, string Interface)> Interfaces(string which) => which switch
    {
        "radio" => [(topology.ClientNs, topology.RadioClientIf), (topology.GatewayNs, topology.RadioGatewayIf)],
        "handover" => [(topology.ClientNs, topology.HandoverClientIf), (topology.GatewayNs, topology.HandoverGatewayIf)],
        _ => throw new ArgumentOutOfRangeException(nameof(which), which, "radio or handover"),
    };

    private void StartDelay(string ns, int delayMs, int jitterMs)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "netns", "exec", ns, "/usr/bin/python3", delayScript, Queue.ToString(CultureInfo.InvariantCulture),
                     delayMs.ToString(CultureInfo.InvariantCulture), jitterMs.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException("nfq_delay.py did not start.");
        _delays.Add(process);
        // Its first line says it bound the queue; until then packets would pass undelayed (queue bypass).
        var ready = process.StandardOutput.ReadLineAsync();
        if (!ready.Wait(TimeSpan.FromSeconds(10)) || ready.Result is null)
            throw new InvalidOperationException($"nfq_delay.py in {ns} did not start: {process.StandardError.ReadToEnd()}");
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 })
                Console.Error.WriteLine($"[{ns}] {e.Data}");
        };
        process.BeginErrorReadLine();
    }
}
