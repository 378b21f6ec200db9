using AccessLayer.Client;
using AccessLayer.Client.Strategies;

namespace AccessLayer.Mlp.Tests.Strategies;

public sealed class ReconnectBackoffTests
{
    private static MlpWeakNetworkOptions Options(int seed) => new()
    {
        ReconnectBaseDelay = TimeSpan.FromSeconds(1),
        ReconnectMaxDelay = TimeSpan.FromSeconds(30),
        Random = new Random(seed),
    };

    [Fact]
    public void Window_doubles_per_attempt_up_to_the_cap()
    {
        var backoff = new ReconnectBackoff(Options(1));

        Assert.Equal(
            [1, 2, 4, 8, 16, 30, 30, 30],
            Enumerable.Range(0, 8).Select(n => backoff.Ceiling(n).TotalSeconds).ToArray());
        Assert.Equal(TimeSpan.FromSeconds(30), backoff.Ceiling(int.MaxValue));
    }

    [Fact]
    public void Each_wait_is_a_uniform_draw_from_the_attempts_window()
    {
        var backoff = new ReconnectBackoff(Options(42));
        var replica = new Random(42);

        for (var n = 0; n < 10; n++)
        {
            var expected = backoff.Ceiling(n) * replica.NextDouble();
            Assert.Equal(expected, backoff.Next());
            Assert.Equal(n + 1, backoff.Attempt);
        }
    }

    [Fact]
    public void After_an_attempt_that_got_no_answer_the_window_is_capped_at_the_unanswered_cap()
    {
        // The path is down (nothing reached a server): the next attempt must follow its return within about 2 s, however long the outage.
        var options = Options(9);
        var backoff = new ReconnectBackoff(options);
        var replica = new Random(9);
        for (var n = 0; n < 8; n++)
        {
            var expected = TimeSpan.FromSeconds(Math.Min(backoff.Ceiling(n).TotalSeconds, 2)) * replica.NextDouble();
            Assert.Equal(expected, backoff.Next(unanswered: true));
        }

        // A refusal (the server was reached) is back on the long window where it left off.
        Assert.Equal(backoff.Ceiling(8) * replica.NextDouble(), backoff.Next());
    }

    [Fact]
    public void While_a_call_waits_for_the_link_the_window_after_an_unanswered_attempt_is_capped_at_the_owed_cap()
    {
        // The app is owed an answer and the path is down: attempts follow each other closely, so its return is found within about a second.
        var backoff = new ReconnectBackoff(Options(5));
        var replica = new Random(5);
        for (var n = 0; n < 8; n++)
            Assert.Equal(TimeSpan.FromMilliseconds(250) * replica.NextDouble(), backoff.Next(unanswered: true, owed: true));

        // Nothing owed: the 2 s unanswered cap's jitter again. A refusal (a server was reached, perhaps an overloaded one): the long window.
        Assert.Equal(TimeSpan.FromSeconds(2) * replica.NextDouble(), backoff.Next(unanswered: true));
        Assert.Equal(backoff.Ceiling(9) * replica.NextDouble(), backoff.Next(owed: true));
    }

    [Fact]
    public void Reset_starts_the_schedule_over()
    {
        var backoff = new ReconnectBackoff(Options(3));
        for (var n = 0; n < 6; n++)
            backoff.Next();

        backoff.Reset();

        Assert.Equal(0, backoff.Attempt);
        Assert.True(backoff.Next() <= TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void A_servers_retry_after_is_a_floor_with_up_to_20_percent_jitter()
    {
        var backoff = new ReconnectBackoff(Options(5));

        var delay = backoff.Next(TimeSpan.FromSeconds(10));

        Assert.InRange(delay.TotalSeconds, 10, 12);
    }

    [Fact]
    public void Clients_dropped_together_spread_their_first_return_over_the_whole_window()
    {
        // A gateway restart drops 10,000 clients at once: full jitter spreads their first attempt
        // evenly over [0, base], so no tenth of the window sees more than 1.2× its fair share.
        var random = new Random(11);
        var buckets = new int[10];
        for (var client = 0; client < 10_000; client++)
        {
            var backoff = new ReconnectBackoff(new MlpWeakNetworkOptions { Random = random });
            var delay = backoff.Next();
            buckets[Math.Min(9, (int)(delay.TotalSeconds * 10))]++;
        }

        Assert.All(buckets, count => Assert.InRange(count, 800, 1200));
    }
}
