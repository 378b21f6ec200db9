using System.Diagnostics.Metrics;
using AccessLayer.Protocol.Mqtt;
using AccessLayer.SessionGrains.Forwarding;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace AccessLayer.SessionGrains.Tests;

/// <summary>
/// The forwarder to one peer: batches in order with one in flight, pressing past two batches waiting,
/// relieved at half a batch, and a wait that runs out (on the fake clock) waives the pressure.
/// </summary>
public sealed class NodeForwarderTests : IDisposable
{
    private const int BatchMessages = 4;

    // Set around an enqueue on the test's thread: a send that sees it ran inside that enqueue.
    [ThreadStatic]
    private static bool t_publishing;

    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeTimeProvider _time = new();
    private readonly HeldPeer _peer = new();
    private readonly NodeForwarder _forwarder;

    public NodeForwarderTests()
    {
        var metrics = new FleetMetrics(_services.GetRequiredService<IMeterFactory>(), () => 2, () => 0, () => 0, () => 0);
        _forwarder = new NodeForwarder("peer", _peer, BatchMessages, 64 * 1024, maxQueued: 100, _time, metrics, NullLogger.Instance);
        _forwarder.Start();
    }

    public void Dispose()
    {
        _peer.ReleaseAll();
        _forwarder.StopAsync().GetAwaiter().GetResult();
        _forwarder.Dispose();
        _services.Dispose();
    }

    [Fact]
    public async Task Messages_go_out_in_order_one_batch_at_a_time()
    {
        Enqueue(0, 1);
        await _peer.WaitForBatchesAsync(1);
        Enqueue(1, 6);

        // Nothing more leaves while the first batch is out; then what queued goes in batches of four at most.
        Assert.Equal(1, _peer.BatchCount);
        _peer.ReleaseNext();
        await _peer.WaitForBatchesAsync(2);
        _peer.ReleaseNext();
        await _peer.WaitForBatchesAsync(3);
        _peer.ReleaseNext();

        Assert.Equal([[0], [1, 2, 3, 4], [5, 6]], _peer.Sequences());
    }

    [Fact]
    public async Task Past_two_batches_waiting_it_presses_and_a_waiter_is_released_at_half_a_batch()
    {
        Enqueue(0, 1);
        await _peer.WaitForBatchesAsync(1);
        Enqueue(1, 2 * BatchMessages - 1);
        Assert.False(_forwarder.IsPressing);
        Enqueue(2 * BatchMessages, 1);
        Assert.True(_forwarder.IsPressing);

        var waiting = _forwarder.WaitForRoomAsync(TimeSpan.FromSeconds(1)).AsTask();
        Assert.False(waiting.IsCompleted);

        // One batch leaves: four remain, more than half a batch.
        _peer.ReleaseNext();
        await _peer.WaitForBatchesAsync(2);
        Assert.False(waiting.IsCompleted);

        // The next leaves: none remain.
        _peer.ReleaseNext();
        await _peer.WaitForBatchesAsync(3);
        await waiting;
        Assert.False(_forwarder.IsPressing);
    }

    [Fact]
    public async Task A_wait_that_runs_out_waives_the_pressure_until_the_queue_drains()
    {
        Enqueue(0, 1);
        await _peer.WaitForBatchesAsync(1);
        Enqueue(1, 2 * BatchMessages);
        Assert.True(_forwarder.IsPressing);

        var waiting = _forwarder.WaitForRoomAsync(TimeSpan.FromMilliseconds(250)).AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(250));
        await waiting;

        // Waived for one wait: publishers go on meanwhile; past it, the still-full queue presses again.
        Assert.False(_forwarder.IsPressing);
        _time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.True(_forwarder.IsPressing);

        // A second wait that runs out waives it for twice as long.
        waiting = _forwarder.WaitForRoomAsync(TimeSpan.FromMilliseconds(250)).AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(250));
        await waiting;
        _time.Advance(TimeSpan.FromMilliseconds(400));
        Assert.False(_forwarder.IsPressing);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(_forwarder.IsPressing);
    }

    [Fact]
    public void A_message_for_an_idle_forwarder_is_sent_on_the_publishing_thread()
    {
        // No hop to another thread before the send: the batch is out when the enqueue returns.
        t_publishing = true;
        Enqueue(0, 1);
        t_publishing = false;

        Assert.Equal(1, _peer.BatchCount);
        Assert.Equal([true], _peer.SentWhilePublishing());
    }

    [Fact]
    public async Task After_one_batch_on_the_publishing_thread_the_rest_goes_on_the_pool()
    {
        // The first send completes at once, and more arrived meanwhile (as from other publishers): the publishing thread
        // sends only its one batch and returns to its own connection.
        _peer.AnswerAtOnce = true;
        _peer.OnFirstSend = () => Enqueue(1, 2 * BatchMessages);

        t_publishing = true;
        Enqueue(0, 1);
        t_publishing = false;
        await _peer.WaitForBatchesAsync(3);

        Assert.Equal([true, false, false], _peer.SentWhilePublishing());
        Assert.Equal(Enumerable.Range(0, 2 * BatchMessages + 1), _peer.Sequences().SelectMany(b => b));
    }

    private void Enqueue(int first, int count)
    {
        for (var i = first; i < first + count; i++)
        {
            var message = new MqttApplicationMessage { Topic = "t", Payload = BitConverter.GetBytes(i), QualityOfService = MqttQualityOfService.AtLeastOnce };
            Assert.True(_forwarder.TryEnqueue(new ForwardedMessage(message, null, true, [], Guid.Empty)));
        }
    }

    /// <summary>A peer that holds every batch until the test releases it, and remembers what each held.</summary>
    private sealed class HeldPeer : IPeerChannel
    {
        private readonly Lock _gate = new();
        private readonly List<byte[]> _batches = [];
        private readonly Queue<TaskCompletionSource> _held = new();
        private TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int BatchCount
        {
            get
            {
                lock (_gate)
                {
                    return _batches.Count;
                }
            }
        }

        private readonly List<bool> _publishing = [];

        /// <summary>Sends complete at once instead of waiting to be released.</summary>
        public bool AnswerAtOnce { get; set; }

        /// <summary>Runs inside the first send, before it completes.</summary>
        public Action? OnFirstSend { get; set; }

        public ValueTask SendAsync(Memory<byte> frame, CancellationToken cancellationToken)
        {
            var batch = frame[ForwardFrames.HeaderSize..].ToArray();
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Action? first;
            lock (_gate)
            {
                _batches.Add(batch);
                _publishing.Add(t_publishing);
                first = _batches.Count == 1 ? OnFirstSend : null;
                if (!AnswerAtOnce)
                {
                    _held.Enqueue(done);
                }

                _arrived.TrySetResult();
            }

            first?.Invoke();
            return AnswerAtOnce ? ValueTask.CompletedTask : new ValueTask(done.Task.WaitAsync(cancellationToken));
        }

        public List<bool> SentWhilePublishing()
        {
            lock (_gate)
            {
                return [.. _publishing];
            }
        }

        public async Task WaitForBatchesAsync(int count)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (true)
            {
                Task arrived;
                lock (_gate)
                {
                    if (_batches.Count >= count)
                    {
                        return;
                    }

                    arrived = (_arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
                }

                await arrived.WaitAsync(deadline - DateTime.UtcNow);
            }
        }

        public void ReleaseNext()
        {
            lock (_gate)
            {
                _held.Dequeue().TrySetResult();
            }
        }

        public void ReleaseAll()
        {
            lock (_gate)
            {
                while (_held.TryDequeue(out var held))
                {
                    held.TrySetResult();
                }
            }
        }

        public List<List<int>> Sequences()
        {
            lock (_gate)
            {
                return _batches.Select(b => FleetCodec.ReadBatch(b).Select(m => BitConverter.ToInt32(m.Message.Payload.Span)).ToList()).ToList();
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
