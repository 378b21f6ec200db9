using AccessLayer.Client;
using AccessLayer.Client.Strategies;
using AccessLayer.Protocol.Mlp.Envelopes;

namespace AccessLayer.Mlp.Tests.Strategies;

public sealed class HeartbeatTunerTests
{
    /// <summary>docs/protocol.md §11's defaults: start 60 s, [30 s, 300 s], step 30 s, 3 successes.</summary>
    private static HeartbeatPolicy ServerDefaults() => new()
    {
        IntervalMs = 60_000, MinIntervalMs = 30_000, MaxIntervalMs = 300_000, ProbeStepMs = 30_000, ProbeSuccessCount = 3, PongTimeoutMs = 10_000,
    };

    private static HeartbeatTuner Tuner(HeartbeatPolicy? policy = null, MlpWeakNetworkOptions? options = null)
    {
        var tuner = new HeartbeatTuner(options ?? new MlpWeakNetworkOptions());
        tuner.Apply(policy ?? ServerDefaults());
        return tuner;
    }

    /// <summary>Beats as a NAT that forgets flows idle for <paramref name="natTimeout"/> would answer them; returns the failures (each one a dead link replaced).</summary>
    private static List<int> Run(HeartbeatTuner tuner, TimeSpan natTimeout, int beats)
    {
        var failures = new List<int>();
        for (var beat = 0; beat < beats; beat++)
        {
            if (tuner.Interval >= natTimeout)
            {
                tuner.OnBeatFailed();
                failures.Add(beat);
            }
            else
            {
                tuner.OnBeatAnswered();
            }
        }

        return failures;
    }

    private static void Beats(HeartbeatTuner tuner, int answered)
    {
        for (var i = 0; i < answered; i++)
            tuner.OnBeatAnswered();
    }

    [Fact]
    public void Starts_at_the_servers_interval()
    {
        Assert.Equal(TimeSpan.FromSeconds(60), Tuner().Interval);
    }

    [Fact]
    public void On_a_good_network_it_steps_up_to_the_servers_maximum_and_holds()
    {
        var tuner = Tuner();

        var failures = Run(tuner, TimeSpan.MaxValue, 100);

        Assert.Empty(failures);
        Assert.Equal(TimeSpan.FromSeconds(300), tuner.Interval);
        Assert.True(tuner.Holding);
    }

    [Fact]
    public void Steps_up_only_after_the_policys_count_of_answered_beats()
    {
        var tuner = Tuner();

        tuner.OnBeatAnswered();
        tuner.OnBeatAnswered();
        Assert.Equal(TimeSpan.FromSeconds(60), tuner.Interval);
        tuner.OnBeatAnswered();
        Assert.Equal(TimeSpan.FromSeconds(90), tuner.Interval);
    }

    [Fact]
    public void Behind_a_NAT_that_forgets_idle_flows_after_45_s_it_settles_within_20_percent_below_and_stops_failing()
    {
        var tuner = Tuner();

        var failures = Run(tuner, TimeSpan.FromSeconds(45), 200);

        Assert.InRange(tuner.Interval.TotalSeconds, 36, 44.999);
        Assert.True(tuner.Holding);
        Assert.True(failures.Count <= 3, $"{failures.Count} failed beats");
        Assert.True(failures[^1] < 40, $"the last failure was beat {failures[^1]}: it kept probing past the NAT");
    }

    [Fact]
    public void A_failure_steps_back_to_the_last_interval_that_worked()
    {
        var tuner = Tuner();
        for (var i = 0; i < 3; i++)
            tuner.OnBeatAnswered(); // 60 worked, probing 90

        tuner.OnBeatFailed();

        Assert.Equal(TimeSpan.FromSeconds(60), tuner.Interval);
        for (var i = 0; i < 3; i++)
            tuner.OnBeatAnswered();
        Assert.Equal(TimeSpan.FromSeconds(75), tuner.Interval); // halfway to the interval that failed
    }

    [Fact]
    public void A_NAT_limit_that_passes_a_beat_at_exactly_its_length_sometimes_makes_it_hold_one_resolution_below()
    {
        // The lab's 720 s nat45 run: 60 s fails, 30 s works, 45 s passes three times (the NAT counts from the PONG), 52.5 s fails.
        var tuner = Tuner();
        tuner.OnBeatFailed();
        Beats(tuner, answered: 3);
        Assert.Equal(TimeSpan.FromSeconds(45), tuner.Interval);
        Beats(tuner, answered: 3);
        Assert.Equal(TimeSpan.FromSeconds(52.5), tuner.Interval);
        tuner.OnBeatFailed();
        Assert.Equal(TimeSpan.FromSeconds(45), tuner.Interval);

        // Then 45 s fails once: the limit is 45 s itself, not a changed path.
        tuner.OnBeatFailed();

        Assert.Equal(TimeSpan.FromSeconds(40), tuner.Interval);
        Assert.False(tuner.Holding);
        Beats(tuner, answered: 3);
        Assert.Equal(TimeSpan.FromSeconds(40), tuner.Interval);
        Assert.True(tuner.Holding);
    }

    [Fact]
    public void A_second_failure_below_the_limit_it_found_means_the_path_changed_and_it_probes_again_from_a_step_down()
    {
        var tuner = Tuner();
        tuner.OnBeatFailed();
        Beats(tuner, answered: 6);
        tuner.OnBeatFailed(); // 52.5 s
        tuner.OnBeatFailed(); // 45 s: one resolution down, to 40 s

        tuner.OnBeatFailed(); // 40 s fails too

        Assert.Equal(TimeSpan.FromSeconds(30), tuner.Interval);
        Assert.False(tuner.Holding);
        var failures = Run(tuner, TimeSpan.FromSeconds(35), 100);
        Assert.InRange(tuner.Interval.TotalSeconds, 30, 34.999);
        Assert.True(tuner.Holding);
        Assert.True(failures.Count <= 2, $"{failures.Count} failed beats on the new path");
    }

    [Fact]
    public void Never_goes_below_the_servers_minimum()
    {
        var tuner = Tuner();

        var failures = Run(tuner, TimeSpan.FromSeconds(10), 20);

        Assert.Equal(TimeSpan.FromSeconds(30), tuner.Interval);
        Assert.Equal(20, failures.Count); // the path kills every beat: nothing the tuner may do about it
    }

    [Fact]
    public void What_was_learned_is_kept_per_network()
    {
        var tuner = Tuner();
        tuner.SwitchNetwork("wifi|home");
        Run(tuner, TimeSpan.FromSeconds(45), 200);
        var home = tuner.Interval;

        tuner.SwitchNetwork("cellular|46001");
        Assert.Equal(TimeSpan.FromSeconds(60), tuner.Interval);
        Run(tuner, TimeSpan.MaxValue, 100);
        Assert.Equal(TimeSpan.FromSeconds(300), tuner.Interval);

        tuner.SwitchNetwork("wifi|home");
        Assert.Equal(home, tuner.Interval);
        Assert.True(tuner.Holding);
    }

    [Fact]
    public void A_new_policy_bounds_what_was_learned()
    {
        var tuner = Tuner();
        Run(tuner, TimeSpan.MaxValue, 100);

        tuner.Apply(new HeartbeatPolicy { IntervalMs = 60_000, MinIntervalMs = 30_000, MaxIntervalMs = 120_000, ProbeStepMs = 30_000, ProbeSuccessCount = 3 });

        Assert.Equal(TimeSpan.FromSeconds(120), tuner.Interval);
    }

    [Fact]
    public void With_the_smart_heartbeat_off_the_servers_interval_stays()
    {
        var tuner = Tuner(options: new MlpWeakNetworkOptions { SmartHeartbeat = false });

        Run(tuner, TimeSpan.MaxValue, 50);
        Assert.Equal(TimeSpan.FromSeconds(60), tuner.Interval);
        tuner.OnBeatFailed();
        Assert.Equal(TimeSpan.FromSeconds(60), tuner.Interval);
    }
}
