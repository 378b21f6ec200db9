using System.Buffers;
using System.Diagnostics;

namespace AccessLayer.Fuzz;

/// <summary>
/// Feeds a target <c>count</c> generated inputs (indices <c>first .. first+count-1</c> of one seed), on
/// <c>workers</c> threads with a target each. Documented exceptions are counted; any other exception, or
/// a broken bound, is a crash: all are counted, the first <see cref="MaxCrashes"/> kept with their seed,
/// index, segment cuts and input hex, and the run goes on. A watchdog stops a run whose input does not finish.
/// </summary>
public sealed class FuzzRunner
{
    public const int MaxCrashes = 10;

    private const int SampleEvery = 4096;

    private readonly Func<IFuzzTarget> _factory;

    public FuzzRunner(Func<IFuzzTarget> factory)
    {
        _factory = factory ?? throw new ArgumentNullException(nameof(factory));
    }

    /// <summary>How long one input may take before the run is declared hung.</summary>
    public TimeSpan HangLimit { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Called now and then with the inputs done so far (for a progress line).</summary>
    public Action<long>? Progress { get; init; }

    public FuzzResult Run(ulong seed, long first, long count, int workers)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        var targets = Enumerable.Range(0, workers).Select(_ => _factory()).ToArray();
        var result = new FuzzResult { Target = targets[0].Name, Seed = seed, RetainedBound = targets[0].RetainedBound };
        var shared = new Shared(workers);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        var clock = Stopwatch.StartNew();
        var threads = new Thread[workers];
        for (var w = 0; w < workers; w++)
        {
            var worker = w;
            threads[w] = new Thread(() => Work(targets[worker], seed, first, count, worker, workers, shared, result), 16 * 1024 * 1024)
            {
                IsBackground = true,
                Name = $"fuzz-{result.Target}-{w}",
            };
            threads[w].Start();
        }

        var lastDone = -1L;
        var lastChange = Stopwatch.GetTimestamp();
        while (!threads.All(t => t.Join(TimeSpan.FromMilliseconds(200))))
        {
            var done = Interlocked.Read(ref shared.Done);
            Progress?.Invoke(done);
            if (done != lastDone)
            {
                lastDone = done;
                lastChange = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(lastChange) > HangLimit)
            {
                lock (result)
                {
                    result.HungAt = shared.Current.Min();
                }

                shared.Stop = true;
                break;
            }
        }

        clock.Stop();
        result.Elapsed = clock.Elapsed;
        result.Inputs = Interlocked.Read(ref shared.Done);
        result.AllocatedBytes = GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;
        result.MaxRetained = targets.Max(t => t.MaxRetained);
        Sample(result);
        return result;
    }

    private static void Work(IFuzzTarget target, ulong seed, long first, long count, int worker, int workers, Shared shared, FuzzResult result)
    {
        var buffer = new byte[FuzzMutator.MaxInputLength];
        var refused = new Dictionary<string, long>(StringComparer.Ordinal);
        long accepted = 0;
        long sinceSample = 0;
        for (var i = (long)worker; i < count && !shared.Stop; i += workers)
        {
            var index = first + i;
            Volatile.Write(ref shared.Current[worker], index);
            var length = FuzzMutator.Generate(target.Corpus, seed, index, buffer);
            var input = FuzzSegments.Split(buffer.AsMemory(0, length), seed, index);
            try
            {
                target.Run(input);
                accepted++;
                if (target.MaxRetained > target.RetainedBound)
                {
                    throw new FuzzBoundException($"{target.Name} retained {target.MaxRetained} bytes; the bound is {target.RetainedBound}.");
                }
            }
            catch (Exception e) when (target.IsExpected(e) && target.MaxRetained <= target.RetainedBound)
            {
                var name = e.GetType().Name;
                refused[name] = refused.GetValueOrDefault(name) + 1;
            }
            catch (Exception e)
            {
                lock (result)
                {
                    result.CrashCount++;
                    if (result.Crashes.Count < MaxCrashes)
                    {
                        result.Crashes.Add(new FuzzCrash(index, FuzzSegments.Describe(input), Convert.ToHexString(buffer, 0, length), e.ToString()));
                    }
                }
            }

            Interlocked.Increment(ref shared.Done);
            if (++sinceSample == SampleEvery)
            {
                sinceSample = 0;
                Sample(result);
            }
        }

        Volatile.Write(ref shared.Current[worker], long.MaxValue);
        lock (result)
        {
            result.Accepted += accepted;
            foreach (var (name, n) in refused)
            {
                result.Refused[name] = result.Refused.GetValueOrDefault(name) + n;
            }
        }
    }

    private static void Sample(FuzzResult result)
    {
        var workingSet = Environment.WorkingSet;
        var heap = GC.GetGCMemoryInfo().HeapSizeBytes;
        lock (result)
        {
            result.PeakWorkingSet = Math.Max(result.PeakWorkingSet, workingSet);
            result.PeakGcHeap = Math.Max(result.PeakGcHeap, heap);
        }
    }

    private sealed class Shared(int workers)
    {
        public long Done;
        public volatile bool Stop;
        public readonly long[] Current = new long[workers];
    }
}
