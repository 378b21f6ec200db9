using System.Net.Sockets;

namespace AccessLayer.Gateway.Tests.Transport;

public sealed class EpollSocketWriterTests
{
    [Fact]
    public async Task Flush_sends_what_was_written_and_clears_unflushed_bytes()
    {
        await using var harness = EpollHarness.Start();
        var (client, server) = await harness.ConnectAsync();
        var output = server.Transport.Output;
        "hello"u8.CopyTo(output.GetSpan(5));
        output.Advance(5);
        Assert.Equal(5, output.UnflushedBytes);

        var flush = await output.FlushAsync();

        Assert.False(flush.IsCompleted);
        Assert.Equal(0, output.UnflushedBytes);
        Assert.Equal("hello"u8.ToArray(), await EpollHarness.ReceiveAsync(client, 5));
    }

    [Fact]
    public async Task A_large_write_holds_the_flush_until_the_peer_reads_then_arrives_intact()
    {
        await using var harness = EpollHarness.Start();
        var (client, server) = await harness.ConnectAsync(receiveBuffer: 4096);
        var output = server.Transport.Output;
        var payload = Enumerable.Range(0, 16 << 20).Select(i => (byte)(i % 251)).ToArray();
        for (var offset = 0; offset < payload.Length; offset += 10_000)
        {
            var chunk = payload.AsSpan(offset, Math.Min(10_000, payload.Length - offset));
            chunk.CopyTo(output.GetSpan(chunk.Length));
            output.Advance(chunk.Length);
        }

        var flush = output.FlushAsync();
        Assert.False(flush.IsCompleted);

        var received = await EpollHarness.ReceiveAsync(client, payload.Length);
        var result = await flush.AsTask().WaitAsync(EpollHarness.Timeout);

        Assert.False(result.IsCompleted);
        Assert.Equal(0, output.UnflushedBytes);
        Assert.Equal(payload, received);
    }

    [Fact]
    public async Task CompleteAsync_flushes_then_ends_the_stream()
    {
        await using var harness = EpollHarness.Start();
        var (client, server) = await harness.ConnectAsync();
        var output = server.Transport.Output;
        output.GetSpan(3)[..3].Fill(42);
        output.Advance(3);

        await output.CompleteAsync();

        Assert.Equal(new byte[] { 42, 42, 42 }, await EpollHarness.ReceiveAsync(client, 4));
    }

    [Fact]
    public async Task Abort_releases_a_flush_held_by_a_peer_that_does_not_read()
    {
        await using var harness = EpollHarness.Start();
        var (_, server) = await harness.ConnectAsync(receiveBuffer: 4096);
        var output = server.Transport.Output;
        var chunk = new byte[16 << 20];
        chunk.CopyTo(output.GetSpan(chunk.Length));
        output.Advance(chunk.Length);
        var flush = output.FlushAsync();
        Assert.False(flush.IsCompleted);

        server.Abort();
        var result = await flush.AsTask().WaitAsync(EpollHarness.Timeout);

        Assert.True(result.IsCompleted);
    }

    [Fact]
    public async Task Flush_to_a_reset_peer_reports_completion()
    {
        await using var harness = EpollHarness.Start();
        var (client, server) = await harness.ConnectAsync();
        client.LingerState = new LingerOption(true, 0);
        client.Close();
        var output = server.Transport.Output;

        FlushResultish last = default;
        for (var i = 0; i < 50 && !last.Completed; i++)
        {
            output.GetSpan(100)[..100].Clear();
            output.Advance(100);
            last = new FlushResultish((await output.FlushAsync().AsTask().WaitAsync(EpollHarness.Timeout)).IsCompleted);
            await Task.Yield();
        }

        Assert.True(last.Completed);
    }

    private readonly record struct FlushResultish(bool Completed);
}
