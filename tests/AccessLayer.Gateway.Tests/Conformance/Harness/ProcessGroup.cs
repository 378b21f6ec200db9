namespace AccessLayer.Gateway.Tests.Conformance.Harness;

/// <summary>
/// The client processes one test started: all killed when the test ends, their transcripts
/// written to the test output so a failure shows what every peer saw.
/// </summary>
internal sealed class ProcessGroup : IAsyncDisposable
{
    private readonly List<ChildProcess> _processes = [];

    public ChildProcess Add(ChildProcess process)
    {
        lock (_processes) _processes.Add(process);
        return process;
    }

    public async ValueTask DisposeAsync()
    {
        ChildProcess[] all;
        lock (_processes) all = [.. _processes];
        foreach (var process in all) await process.DisposeAsync();
    }

    public void WriteTranscripts(ITestOutputHelper output)
    {
        ChildProcess[] all;
        lock (_processes) all = [.. _processes];
        foreach (var process in all)
        {
            output.WriteLine($"--- {process.Name} ---");
            foreach (var line in process.TranscriptSince(0)) output.WriteLine(line);
        }
    }
}
