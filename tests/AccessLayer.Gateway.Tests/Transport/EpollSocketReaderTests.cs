using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using AccessLayer.Gateway.Transport;
using Microsoft.AspNetCore.Connections;

namespace AccessLayer.Gateway.Tests.Transport;

public sealed class EpollSocketReaderTests
{
    [Fact]
    public async Task Read_returns_bytes_that_arrive_after_the_read_started()
    {
        await using var harness = EpollHarness.Start();
        var (client, server) = await harness.ConnectAsync();
        var read = server.Transport.Input.ReadAsync();
        Assert.False(read.IsCompleted);

        await client.SendAsync("hello"u8.ToArray(), SocketFlags.None);
        var result = await read.AsTask().WaitAsync(EpollHarness.Timeout);

        Assert.Equal("hello"u8.ToArray(), result.Buffer.ToArray());
        server.Transport.Input.AdvanceTo(result.Buffer.End);
    }

    [Fact]
    public async Task A_stream_larger_than_a_block_is_chained_across_segments_and_arrives_intact()
    {
        await using var harness = EpollHarness.Start();
        var (client, server) = await harness.ConnectAsync();
        var input = server.Transport.Input;
        var payload = Enumerable.Range(0, 1 << 20).Select(i => (byte)(i % 253)).ToArray();
        var send = client.SendAsync(payload, SocketFlags.None);

        var received = new List<byte>(payload.Length);
        var sawMultiSegment = false;
        while (received.Count < payload.Length)
        {
            var result = await input.ReadAsync().AsTask().WaitAsync(EpollHarness.Timeout);
            sawMultiSegment |= !result.Buffer.IsSingleSegment;
            received.AddRange(result.Buffer.ToArray());
            input.AdvanceTo(result.Buffer.End);
        }

        await send;
        Assert.Equal(payload, received.ToArray());
        Assert.True(sawMultiSegment || payload.Length <= 4096);
    }

    [Fact]
    public async Task Examined_but_not_consumed_waits_for_more_then_resumes_at_the_consumed_position()
    {
        await using var harness = EpollHarness.Start();
        var (client, server) = await harness.ConnectAsync();
        var input = server.Transport.Input;
        await client.SendAsync("abc"u8.ToArray(), SocketFlags.None);
        var first = await input.ReadAsync().AsTask().WaitAsync(EpollHarness.Timeout);
        while (first.Buffer.Length < 3)
        {
            input.AdvanceTo(first.Buffer.Start, first.Buffer.End);
            first = await input.ReadAsync().AsTask().WaitAsync(EpollHarness.Timeout);
        }

        input.AdvanceTo(first.Buffer.GetPosition(1), first.Buffer.End);
        var pending = input.ReadAsync();
        Assert.False(pending.IsCompleted);

        await client.SendAsync("de"u8.ToArray(), SocketFlags.None);
        var second = await pending.AsTask().WaitAsync(EpollHarness.Timeout);
        while (second.Buffer.Length < 4)
        {
            input.AdvanceTo(second.Buffer.Start, second.Buffer.End);
            second = await input.ReadAsync().AsTask().WaitAsync(EpollHarness.Timeout);
        }

        Assert.Equal("bcde"u8.ToArray(), second.Buffer.ToArray());
        input.AdvanceTo(second.Buffer.End);
    }

    [Fact]
    public async Task Peer_close_completes_the_reader_after_the_last_bytes()
    {
        await using var harness = EpollHarness.Start();
        var (client, server) = await harness.ConnectAsync();
        var input = server.Transport.Input;
        await client.SendAsync("bye"u8.ToArray(), SocketFlags.None);
        client.Shutdown(SocketShutdown.Send);

        var bytes = new List<byte>();
        ReadResult result;
        do
        {
            result = await input.ReadAsync().AsTask().WaitAsync(EpollHarness.Timeout);
            bytes.AddRange(result.Buffer.ToArray());
            input.AdvanceTo(result.Buffer.End);
        }
        while (!result.IsCompleted);

        Assert.Equal("bye"u8.ToArray(), bytes.ToArray());
    }

    [Fact]
    public async Task CancelPendingRead_ends_a_waiting_read_as_canceled()
    {
        await using var harness = EpollHarness.Start();
        var (_, server) = await harness.ConnectAsync();
        var read = server.Transport.Input.ReadAsync();

        server.Transport.Input.CancelPendingRead();
        var result = await read.AsTask().WaitAsync(EpollHarness.Timeout);

        Assert.True(result.IsCanceled);
    }

    [Fact]
    public async Task A_canceled_token_fails_a_waiting_read()
    {
        await using var harness = EpollHarness.Start();
        var (_, server) = await harness.ConnectAsync();
        using var cancel = new CancellationTokenSource();
        var read = server.Transport.Input.ReadAsync(cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.AsTask().WaitAsync(EpollHarness.Timeout));
    }

    [Fact]
    public async Task Abort_fails_a_waiting_read_with_the_abort_reason_and_closes_the_socket()
    {
        await using var harness = EpollHarness.Start();
        var (client, server) = await harness.ConnectAsync();
        var read = server.Transport.Input.ReadAsync();
        var reason = new ConnectionAbortedException("test abort");

        server.Abort(reason);

        var thrown = await Assert.ThrowsAsync<ConnectionAbortedException>(() => read.AsTask().WaitAsync(EpollHarness.Timeout));
        Assert.Same(reason, thrown);
        Assert.Empty(await EpollHarness.ReceiveAsync(client, 1));
    }

    [Fact]
    public async Task Inline_continuations_deliver_the_same_bytes()
    {
        await using var harness = EpollHarness.Start(loops: 1, inline: true);
        var (client, server) = await harness.ConnectAsync();
        var read = server.Transport.Input.ReadAsync();

        await client.SendAsync("inline"u8.ToArray(), SocketFlags.None);
        var result = await read.AsTask().WaitAsync(EpollHarness.Timeout);

        Assert.Equal("inline"u8.ToArray(), result.Buffer.ToArray());
        server.Transport.Input.AdvanceTo(result.Buffer.End);
    }

    [Fact]
    public async Task A_parked_reader_is_called_back_once_when_bytes_arrive_and_does_not_park_while_input_is_unread()
    {
        await using var harness = EpollHarness.Start();
        var (client, server) = await harness.ConnectAsync();
        IParkedInputFeature parked = server;
        var input = server.Transport.Input;
        Assert.False(input.TryRead(out _));
        var signal = new ReadySignal();
        Assert.True(parked.TryPark(signal));
        Assert.False(signal.Called.IsCompleted);

        await client.SendAsync("hi"u8.ToArray(), SocketFlags.None);
        await signal.Called.WaitAsync(EpollHarness.Timeout);

        Assert.True(input.TryRead(out var result));
        Assert.Equal("hi"u8.ToArray(), result.Buffer.ToArray());
        input.AdvanceTo(result.Buffer.Start, result.Buffer.Start);
        // Unexamined bytes are input ready now: parking would wait for an edge that already came.
        Assert.False(parked.TryPark(new ReadySignal()));
        Assert.True(input.TryRead(out result));
        input.AdvanceTo(result.Buffer.End);
        Assert.Equal(1, signal.Calls);
    }

    [Fact]
    public async Task CancelPendingRead_and_abort_call_a_parked_reader_back()
    {
        // The pipeline outlives the abort until the end of the test: its end would dispose the reader.
        var pipelineEnd = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var harness = EpollHarness.Start(body: _ => pipelineEnd.Task);
        var (_, server) = await harness.ConnectAsync();
        IParkedInputFeature parked = server;
        var input = server.Transport.Input;
        Assert.False(input.TryRead(out _));

        var canceled = new ReadySignal();
        Assert.True(parked.TryPark(canceled));
        input.CancelPendingRead();
        await canceled.Called.WaitAsync(EpollHarness.Timeout);
        Assert.True(input.TryRead(out var result));
        Assert.True(result.IsCanceled);

        var aborted = new ReadySignal();
        Assert.True(parked.TryPark(aborted));
        var reason = new ConnectionAbortedException("test abort");
        server.Abort(reason);
        await aborted.Called.WaitAsync(EpollHarness.Timeout);
        Assert.Same(reason, Assert.Throws<ConnectionAbortedException>(() => input.TryRead(out _)));
        pipelineEnd.SetResult();
    }

    private sealed class ReadySignal : IInputReadyHandler
    {
        private readonly TaskCompletionSource _called = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _calls;

        public Task Called => _called.Task;

        public int Calls => Volatile.Read(ref _calls);

        public void OnInputReady()
        {
            Interlocked.Increment(ref _calls);
            _called.TrySetResult();
        }
    }
}
