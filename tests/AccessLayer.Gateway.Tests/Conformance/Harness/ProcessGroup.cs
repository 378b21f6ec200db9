namespace AccessLayer.Gateway.Tests.Conformance.Harness;

/// <summary>
/// The peers (client processes, scripted clients) one test started: all ended when the test
/// ends, their transcripts written to the test output so a failure shows what every peer saw.
/// </summary>
internal sealed class ProcessGroup : IAsyncDisposable
{
    private readonly List<IPeer> _peers = [];

    public T Add<T>(T peer)
        where T : IPeer
    {
        lock (_peers) _peers.Add(peer);
        return peer;
    }

    public async ValueTask DisposeAsync()
    {
        IPeer[] all;
        lock (_peers) all = [.. _peers];
        await Task.WhenAll(all.Select(p => p.DisposeAsync().AsTask()));
    }

    public void WriteTranscripts(ITestOutputHelper output)
    {
        IPeer[] all;
        lock (_peers) all = [.. _peers];
        foreach (var peer in all)
        {
            output.WriteLine($"--- {peer.Name} ---");
            foreach (var line in peer.Transcript()) output.WriteLine(line);
        }
    }
}
