using AccessLayer.Gateway.Tests.Conformance.Brokers;
using AccessLayer.Gateway.Tests.Conformance.Harness;

namespace AccessLayer.Gateway.Tests.Conformance;

/// <summary>
/// Shared plumbing of the real-client conformance classes: the broker under test, unique
/// topic and client-id names per test, and the client processes (killed after each test,
/// their transcripts and the broker's log of the test written to the test output).
/// </summary>
public abstract class ConformanceTest<TFixture> : IAsyncLifetime
    where TFixture : BrokerFixture
{
    private static int s_counter;
    private readonly long _brokerLogMark;
    private readonly string _run;

    protected ConformanceTest(TFixture broker, ITestOutputHelper output)
    {
        Broker = broker;
        Output = output;
        _brokerLogMark = broker.LogMark;
        _run = $"{Interlocked.Increment(ref s_counter)}-{Random.Shared.Next(0x10000):x4}";
    }

    protected TFixture Broker { get; }

    protected ITestOutputHelper Output { get; }

    private protected ProcessGroup Processes { get; } = new();

    /// <summary>A topic no other test uses.</summary>
    protected string Topic(string name) => $"conformance/{_run}/{name}";

    /// <summary>A client identifier no other test uses.</summary>
    protected string ClientId(string role) => $"c{_run}-{role}";

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await Processes.DisposeAsync();
        Processes.WriteTranscripts(Output);
        Output.WriteLine($"--- broker {Broker.Name} on port {Broker.MqttPort} during this test ---");
        foreach (var line in Broker.LogSince(_brokerLogMark)) Output.WriteLine(line);
    }

    /// <summary>Payloads p0..p(n-1), the content a publisher sends in order.</summary>
    protected static string[] Numbered(string prefix, int count) => [.. Enumerable.Range(0, count).Select(i => $"{prefix}{i}")];

    /// <summary>
    /// True when the broker under test has this known deviation from the spec; the test then
    /// skips the check it would fail and says so in its output.
    /// </summary>
    protected bool Deviates(BrokerQuirks quirk, string check)
    {
        if (!Broker.Quirks.HasFlag(quirk)) return false;
        Output.WriteLine($"{Broker.Name} has the known deviation {quirk}: not checking {check}");
        return true;
    }

    /// <summary>Polls a condition over several peers (each process has its own log to wait on).</summary>
    protected static async Task Eventually(Func<bool> condition, string what)
    {
        var start = Wall.Now();
        while (!condition())
        {
            if (Wall.Since(start) > Budget.Wait) throw new TimeoutException($"not within {Budget.Wait.TotalSeconds:0.#} s: {what}");
            await Wall.PassAsync(TimeSpan.FromMilliseconds(20));
        }
    }

    /// <summary>
    /// For a negative check where no later "barrier" message can prove the absence: watch for
    /// a short while, then compare. Most tests use a barrier (a marker published after, on the
    /// same path, whose arrival proves earlier messages would have arrived first).
    /// </summary>
    protected static async Task<int> CountAfterQuietAsync(Func<int> count)
    {
        await Wall.PassAsync(Budget.Quiet);
        return count();
    }
}
