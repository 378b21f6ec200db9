namespace AccessLayer.Lab;

internal enum LabAction
{
    BlackholeOn,
    BlackholeOff,
    ResetOn,
    ResetOff,
    KillGateway,
    StartGateway,
    Handover,
}

/// <summary>Something the scenario does to the path or the gateway, <see cref="At"/> seconds into the run.</summary>
internal sealed record LabEvent(double At, LabAction Action);

/// <summary>
/// One scenario: the steady path, what happens on it, and the request mix both clients run (calls issued on a
/// fixed schedule whether or not earlier ones finished, alternating <c>get</c> and <c>add</c>; pushes from the
/// push API to both devices). Every schedule is bounded: <see cref="Duration"/> of issuing, then at most the
/// naive timeout for the calls still running and 30 s for pushes still on their way.
/// </summary>
internal sealed record Scenario(string Name, string Description, PathProfile Path, double Duration, double CallInterval, double PushInterval, IReadOnlyList<LabEvent> Events)
{
    /// <summary>Calls come in bursts of this many, <see cref="BurstSpacing"/> apart, every <see cref="CallInterval"/> (1: evenly).</summary>
    public int BurstSize { get; init; } = 1;

    public double BurstSpacing { get; init; } = 0.5;

    /// <summary>Whether the pushes go out together with each burst of calls (so they meet a flow the NAT forgot) instead of on their own timer.</summary>
    public bool PushWithBurst { get; init; }

    public IEnumerable<double> CallTimes()
    {
        for (var start = 1.0; start < Duration; start += CallInterval)
        {
            for (var i = 0; i < BurstSize; i++)
                yield return start + (i * BurstSpacing);
        }
    }

    public IEnumerable<double> PushTimes()
    {
        if (PushInterval <= 0)
            yield break;
        for (var at = PushWithBurst ? 1.0 : 0.5; at < Duration; at += PushInterval)
            yield return at;
    }

    public static IReadOnlyList<Scenario> All(bool quick)
    {
        double Q(double full, double shortened) => quick ? shortened : full;
        var lan = new PathProfile(DelayMs: 25);
        List<Scenario> list =
        [
            new("good", "clean veth path", PathProfile.Clean, Q(30, 15), 0.5, 2, []),
            new("3g", "300 ms RTT, 1 Mbit/s, 1% loss", new PathProfile(DelayMs: 150, RateKbit: 1000, LossPercent: 1), Q(45, 20), 0.5, 2, []),
            // 298 calls (quick: 118): enough that p99 is not simply the maximum.
            new("lossy", "400 ms RTT, 10% loss", new PathProfile(DelayMs: 200, LossPercent: 10), Q(150, 60), 0.5, 2, []),
            quick
                ? new("subway", "one 30 s blackout (quick)", lan, 55, 1, 3, [new(10, LabAction.BlackholeOn), new(40, LabAction.BlackholeOff)])
                : new("subway", "30 s blackouts every 2 min", lan, 190, 1, 3,
                    [new(20, LabAction.BlackholeOn), new(50, LabAction.BlackholeOff), new(140, LabAction.BlackholeOn), new(170, LabAction.BlackholeOff)]),
            new("nat15", "NAT forgets idle flows after 15 s", lan with { NatIdleSeconds = 15 }, Q(120, 60), 20, 20, []) { BurstSize = 4, PushWithBurst = true },
            new("restart", "gateway killed (SIGKILL) and restarted", lan, Q(50, 30), 0.5, 2, [new(Q(15, 10), LabAction.KillGateway), new(Q(15, 10), LabAction.StartGateway)]),
            new("reset", "every TCP segment to the gateway answered with a RST for 2 s", lan, Q(40, 25), 0.5, 2, [new(Q(15, 10), LabAction.ResetOn), new(Q(17, 12), LabAction.ResetOff)]),
            new("handover", "old network silently gone, new endpoint", lan, Q(45, 25), 0.5, 2, [new(Q(15, 10), LabAction.Handover)]),
        ];
        if (!quick)
            list.Add(new("nat45", "NAT forgets idle flows after 45 s, mostly idle", lan with { NatIdleSeconds = 45 }, 720, 100, 0, []));
        return list;
    }

    /// <summary>The end-to-end self-test's scenario: a clean path with one 25 s blackhole (long enough for the SDK on main, which has no RTT sample on a busy link, to find the link dead).</summary>
    public static Scenario Blackhole { get; } =
        new("blackhole", "one 25 s blackhole", PathProfile.Clean, 32, 0.5, 1, [new(3, LabAction.BlackholeOn), new(28, LabAction.BlackholeOff)]);

    public static Scenario? Find(string name, bool quick) =>
        name == Blackhole.Name ? Blackhole : All(quick).FirstOrDefault(s => s.Name == name);
}
