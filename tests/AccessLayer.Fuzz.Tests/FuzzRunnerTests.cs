using System.Buffers;
using System.Diagnostics;

namespace AccessLayer.Fuzz.Tests;

/// <summary>
/// The fuzz harness itself (bench/AccessLayer.Fuzz): a short run of every target, and the harness telling
/// a crash from a documented refusal. The long runs (10 million inputs per target) are a bench command,
/// not part of the test suite: see docs/benchmarks-fuzz.md.
/// </summary>
public sealed class FuzzRunnerTests
{
    public static TheoryData<string> Targets() => [.. FuzzTargets.All.Keys];

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_target_takes_20000_inputs_without_a_crash_and_within_its_bound(string name)
    {
        var clock = Stopwatch.StartNew();
        var result = new FuzzRunner(FuzzTargets.All[name]).Run(seed: 7, first: 0, count: 20_000, workers: 1);

        Assert.True(result.Passed, string.Join("\n", result.Crashes.Select(c => $"index {c.Index}: {c.InputHex}\n{c.Exception}")));
        Assert.Equal(20_000, result.Inputs);
        // A harness that only ever produced garbage (or only valid input) would not be fuzzing.
        Assert.True(result.Accepted > 0, "no input was accepted");
        Assert.True(result.Refused.Values.Sum() > 0, "no input was refused");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"{name} took {clock.Elapsed}");
    }

    [Fact]
    public void An_undocumented_exception_is_a_crash_kept_with_the_input_that_replays_it()
    {
        var result = new FuzzRunner(() => new ThrowingTarget()).Run(seed: 11, first: 0, count: 2_000, workers: 1);

        Assert.False(result.Passed);
        Assert.True(result.CrashCount > 0);
        Assert.InRange(result.Crashes.Count, 1, FuzzRunner.MaxCrashes);
        var crash = result.Crashes[0];
        Assert.Contains(nameof(InvalidOperationException), crash.Exception, StringComparison.Ordinal);

        // The seed and index regenerate exactly the input that was printed.
        var buffer = new byte[FuzzMutator.MaxInputLength];
        var length = FuzzMutator.Generate(new ThrowingTarget().Corpus, 11, crash.Index, buffer);
        Assert.Equal(crash.InputHex, Convert.ToHexString(buffer, 0, length));
        Assert.Contains("42", Convert.ToHexString(buffer, 0, length), StringComparison.Ordinal);
    }

    [Fact]
    public void A_documented_exception_is_counted_as_refused_not_as_a_crash()
    {
        var result = new FuzzRunner(() => new ThrowingTarget { Documented = true }).Run(seed: 11, first: 0, count: 2_000, workers: 2);

        Assert.True(result.Passed);
        Assert.Equal(2_000, result.Inputs);
        Assert.True(result.Refused[nameof(InvalidOperationException)] > 0);
        Assert.Equal(2_000, result.Accepted + result.Refused.Values.Sum());
    }

    [Fact]
    public void A_decoder_past_its_bound_is_a_crash_even_when_it_refused_the_input()
    {
        var result = new FuzzRunner(() => new ThrowingTarget { Documented = true, Retains = 100 }).Run(seed: 3, first: 0, count: 100, workers: 1);

        Assert.False(result.Passed);
        Assert.Equal(100, result.CrashCount);
    }

    [Fact]
    public void Inputs_depend_only_on_seed_and_index()
    {
        var corpus = new ThrowingTarget().Corpus;
        var a = new byte[FuzzMutator.MaxInputLength];
        var b = new byte[FuzzMutator.MaxInputLength];
        var differs = 0;
        for (var index = 0; index < 500; index++)
        {
            var n = FuzzMutator.Generate(corpus, 5, index, a);
            Assert.Equal(n, FuzzMutator.Generate(corpus, 5, index, b));
            Assert.True(a.AsSpan(0, n).SequenceEqual(b.AsSpan(0, n)));
            var m = FuzzMutator.Generate(corpus, 6, index, b);
            differs += m != n || !a.AsSpan(0, n).SequenceEqual(b.AsSpan(0, m)) ? 1 : 0;
        }

        Assert.True(differs > 400, $"only {differs} of 500 inputs changed with the seed");
    }

    [Fact]
    public void The_corpora_come_out_the_same_every_time_so_a_replay_in_another_process_is_the_same_input()
    {
        // A sealed resume ticket with a random nonce once made the MLP corpus differ per process.
        Assert.Equal(Fuzz.Targets.MlpCorpus.Build(), Fuzz.Targets.MlpCorpus.Build());
        Assert.Equal(Fuzz.Targets.MqttCorpus.Build(), Fuzz.Targets.MqttCorpus.Build());
    }

    /// <summary>Throws on any input holding the byte 0x42: undocumented unless told otherwise.</summary>
    private sealed class ThrowingTarget : IFuzzTarget
    {
        public bool Documented { get; init; }

        public long Retains { get; init; }

        public string Name => "throwing";

        public IReadOnlyList<byte[]> Corpus { get; } = [[1, 2, 3, 4, 5, 6, 7, 8], [0x10, 0x20, 0x30]];

        public long MaxRetained => Retains;

        public long RetainedBound => 10;

        public bool IsExpected(Exception exception) => Documented && exception is InvalidOperationException;

        public void Run(in ReadOnlySequence<byte> input)
        {
            if (input.PositionOf((byte)0x42) is not null)
            {
                throw new InvalidOperationException("0x42 seen");
            }
        }
    }
}
