using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace AccessLayer.Gateway.Tests.Transport;

public sealed class LeanSocketWriterTests
{
    [Fact]
    public async Task Flush_sends_what_was_written_and_clears_unflushed_bytes()
    {
        await using var pair = await LoopbackPair.OpenAsync();
        var output = pair.Server.Transport.Output;
        "hello"u8.CopyTo(output.GetSpan(5));
        output.Advance(5);
        Assert.Equal(5, output.UnflushedBytes);

        var flush = await output.FlushAsync();

        Assert.False(flush.IsCompleted);
        Assert.Equal(0, output.UnflushedBytes);
        Assert.Equal("hello"u8.ToArray(), await pair.ReceiveAsync(5));
    }

    [Fact]
    public async Task A_large_write_holds_the_flush_until_the_peer_reads_then_arrives_intact()
    {
        await using var pair = await LoopbackPair.OpenAsync(clientReceiveBuffer: 4096);
        var output = pair.Server.Transport.Output;
        var payload = Enumerable.Range(0, 16 << 20).Select(i => (byte)(i % 251)).ToArray();
        for (var offset = 0; offset < payload.Length; offset += 10_000)
        {
            var chunk = payload.AsSpan(offset, Math.Min(10_000, payload.Length - offset));
            chunk.CopyTo(output.GetSpan(chunk.Length));
            output.Advance(chunk.Length);
        }

        var flush = output.FlushAsync();
        Assert.False(flush.IsCompleted);

        var received = await pair.ReceiveAsync(payload.Length);
        var result = await flush.AsTask().WaitAsync(LoopbackPair.Timeout);

        Assert.False(result.IsCompleted);
        Assert.Equal(0, output.UnflushedBytes);
        Assert.Equal(payload, received);
    }

    [Fact]
    public async Task CompleteAsync_flushes_then_ends_the_stream()
    {
        await using var pair = await LoopbackPair.OpenAsync();
        var output = pair.Server.Transport.Output;
        output.GetSpan(3)[..3].Fill(42);
        output.Advance(3);

        await output.CompleteAsync();

        Assert.Equal(new byte[] { 42, 42, 42 }, await pair.ReceiveAsync(4));
    }

    [Fact]
    public async Task Flush_after_abort_reports_completion_instead_of_throwing()
    {
        await using var pair = await LoopbackPair.OpenAsync();
        var output = pair.Server.Transport.Output;
        pair.Server.Abort(new ConnectionAbortedException("gone"));
        output.GetSpan(1)[0] = 1;
        output.Advance(1);

        var flush = await output.FlushAsync();

        Assert.True(flush.IsCompleted);
        Assert.Equal(0, output.UnflushedBytes);
    }

    [Fact]
    public async Task Flush_to_a_reset_peer_reports_completion()
    {
        await using var pair = await LoopbackPair.OpenAsync();
        var output = pair.Server.Transport.Output;
        pair.Client.LingerState = new LingerOption(true, 0);
        pair.Client.Close();

        var completed = false;
        for (var attempt = 0; attempt < 100 && !completed; attempt++)
        {
            output.GetSpan(1024)[..1024].Clear();
            output.Advance(1024);
            completed = (await output.FlushAsync().AsTask().WaitAsync(LoopbackPair.Timeout)).IsCompleted;
        }

        Assert.True(completed);
    }
}
