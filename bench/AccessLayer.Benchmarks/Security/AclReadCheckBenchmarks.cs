using AccessLayer.Gateway.Security;
using BenchmarkDotNet.Attributes;

namespace AccessLayer.Benchmarks.Security;

/// <summary>
/// What the ACL adds to one delivery. A client none of whose subscriptions overlaps a deny rule
/// pays one flag test (<see cref="Unchecked"/>, the hot path); a client with a subscription
/// overlapping a denied area pays <see cref="ClientAcl.CanRead"/> per message, here against a
/// ten-rule ACL shaped like a fleet (per-user and per-device trees, a few denied areas) for a
/// topic decided by the last rule (the worst case) and one decided by the first. Classify is
/// paid once per SUBSCRIBE.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class AclReadCheckBenchmarks
{
    private ClientAcl _acl = null!;
    private volatile bool _readChecked;

    [GlobalSetup]
    public void Setup()
    {
        string[] rules =
        [
            "deny  *          subscribe test/nosubscribe",
            "deny  *          subscribe $SYS/broker/clients/#",
            "deny  *          subscribe secret/#",
            "allow *          all       users/%u/#",
            "allow *          publish   devices/%c/up",
            "allow user:ops   subscribe devices/+/up",
            "deny  *          subscribe devices/+/keys",
            "allow *          subscribe fleet/+/status",
            "deny  *          subscribe fleet/internal/#",
            "allow *          subscribe #",
        ];
        _acl = new AclRuleSet([.. rules.Select(AclRule.Parse)], AclPermission.Deny).ForClient("device-42", "alice");
        _readChecked = false;
    }

    [Benchmark(Baseline = true)]
    public bool Unchecked() => !_readChecked || _acl.CanRead("tenant/7/device/42/telemetry");

    [Benchmark]
    public bool CheckedDecidedByLastRule() => _acl.CanRead("tenant/7/device/42/telemetry");

    [Benchmark]
    public bool CheckedDecidedByFirstRule() => _acl.CanRead("test/nosubscribe");

    [Benchmark]
    public SubscriptionAccess ClassifyHash() => _acl.Classify("#");
}
