using System.Buffers;
using System.Net.Sockets;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace AccessLayer.Gateway.Tests.Transport;

public sealed class LeanSocketReaderTests
{
    private static byte[] Pattern(int length, int seed) => Enumerable.Range(0, length).Select(i => (byte)((i * 7) + seed)).ToArray();

    [Fact]
    public async Task ReadAsync_returns_the_bytes_the_peer_sent()
    {
        await using var pair = await LoopbackPair.OpenAsync();
        await pair.SendAsync([1, 2, 3]);

        var result = await pair.Server.Transport.Input.ReadAsync().AsTask().WaitAsync(LoopbackPair.Timeout);

        Assert.Equal(new byte[] { 1, 2, 3 }, result.Buffer.ToArray());
        Assert.False(result.IsCompleted);
        pair.Server.Transport.Input.AdvanceTo(result.Buffer.End);
    }

    [Fact]
    public async Task Examined_but_not_consumed_waits_for_more_and_then_chains_segments()
    {
        await using var pair = await LoopbackPair.OpenAsync();
        var input = pair.Server.Transport.Input;
        var first = Pattern(4000, 1);
        var second = Pattern(4000, 2);
        await pair.SendAsync(first);
        var result = await ReadAtLeastAsync(input, first.Length);
        input.AdvanceTo(result.Buffer.Start, result.Buffer.End);

        var pending = input.ReadAsync();
        Assert.False(pending.IsCompleted);

        await pair.SendAsync(second);
        result = await pending.AsTask().WaitAsync(LoopbackPair.Timeout);
        while (result.Buffer.Length < first.Length + second.Length)
        {
            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            result = await input.ReadAsync().AsTask().WaitAsync(LoopbackPair.Timeout);
        }

        Assert.False(result.Buffer.IsSingleSegment);
        Assert.Equal(first.Concat(second).ToArray(), result.Buffer.ToArray());
        input.AdvanceTo(result.Buffer.End);
    }

    [Fact]
    public async Task Partly_consumed_buffer_resumes_at_the_consumed_position()
    {
        await using var pair = await LoopbackPair.OpenAsync();
        var input = pair.Server.Transport.Input;
        await pair.SendAsync(Pattern(100, 3));
        var result = await ReadAtLeastAsync(input, 100);
        input.AdvanceTo(result.Buffer.GetPosition(60), result.Buffer.End);

        var pending = input.ReadAsync();
        Assert.False(pending.IsCompleted);
        await pair.SendAsync(Pattern(10, 4));
        result = await pending.AsTask().WaitAsync(LoopbackPair.Timeout);
        if (result.Buffer.Length < 50)
        {
            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            result = await ReadAtLeastAsync(input, 50);
        }

        Assert.Equal(Pattern(100, 3)[60..].Concat(Pattern(10, 4)).ToArray(), result.Buffer.ToArray());
        input.AdvanceTo(result.Buffer.End);
    }

    [Fact]
    public async Task Peer_close_completes_the_reader_after_the_last_bytes()
    {
        await using var pair = await LoopbackPair.OpenAsync();
        var input = pair.Server.Transport.Input;
        await pair.SendAsync([9, 8, 7]);
        pair.Client.Shutdown(SocketShutdown.Send);

        var result = await input.ReadAsync().AsTask().WaitAsync(LoopbackPair.Timeout);
        var seen = result.Buffer.ToArray();
        while (!result.IsCompleted)
        {
            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            result = await input.ReadAsync().AsTask().WaitAsync(LoopbackPair.Timeout);
            seen = result.Buffer.ToArray();
        }

        Assert.Equal(new byte[] { 9, 8, 7 }, seen);
        input.AdvanceTo(result.Buffer.End);
        result = await input.ReadAsync().AsTask().WaitAsync(LoopbackPair.Timeout);
        Assert.True(result.IsCompleted);
        Assert.True(result.Buffer.IsEmpty);
    }

    [Fact]
    public async Task CancelPendingRead_ends_a_waiting_read_as_canceled_and_data_still_arrives_later()
    {
        await using var pair = await LoopbackPair.OpenAsync();
        var input = pair.Server.Transport.Input;

        var pending = input.ReadAsync();
        Assert.False(pending.IsCompleted);
        input.CancelPendingRead();
        var result = await pending.AsTask().WaitAsync(LoopbackPair.Timeout);
        Assert.True(result.IsCanceled);
        input.AdvanceTo(result.Buffer.End);

        await pair.SendAsync([5]);
        result = await ReadAtLeastAsync(input, 1);
        Assert.Equal(new byte[] { 5 }, result.Buffer.ToArray());
    }

    [Fact]
    public async Task Abort_fails_a_waiting_read_with_the_abort_reason_and_closes_the_socket()
    {
        await using var pair = await LoopbackPair.OpenAsync();
        var input = pair.Server.Transport.Input;
        var pending = input.ReadAsync();

        pair.Server.Abort(new ConnectionAbortedException("test abort"));

        var ex = await Assert.ThrowsAsync<ConnectionAbortedException>(() => pending.AsTask().WaitAsync(LoopbackPair.Timeout));
        Assert.Equal("test abort", ex.Message);
        Assert.Empty(await pair.ReceiveAsync(1));
    }

    [Fact]
    public async Task A_canceled_token_ends_a_waiting_read()
    {
        await using var pair = await LoopbackPair.OpenAsync();
        using var cts = new CancellationTokenSource();
        var pending = pair.Server.Transport.Input.ReadAsync(cts.Token);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.AsTask().WaitAsync(LoopbackPair.Timeout));
    }

    [Fact]
    public async Task Large_stream_arrives_intact_across_many_reads()
    {
        await using var pair = await LoopbackPair.OpenAsync();
        var input = pair.Server.Transport.Input;
        var payload = Pattern(1 << 20, 5);
        var send = pair.SendAsync(payload);

        var received = new ArrayBufferWriter<byte>();
        while (received.WrittenCount < payload.Length)
        {
            var result = await input.ReadAsync().AsTask().WaitAsync(LoopbackPair.Timeout);
            foreach (var segment in result.Buffer)
            {
                received.Write(segment.Span);
            }

            input.AdvanceTo(result.Buffer.End);
        }

        await send;
        Assert.Equal(payload, received.WrittenSpan.ToArray());
    }

    private static async Task<ReadResult> ReadAtLeastAsync(PipeReader input, int count)
    {
        while (true)
        {
            var result = await input.ReadAsync().AsTask().WaitAsync(LoopbackPair.Timeout);
            if (result.Buffer.Length >= count || result.IsCompleted)
            {
                return result;
            }

            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }
}
