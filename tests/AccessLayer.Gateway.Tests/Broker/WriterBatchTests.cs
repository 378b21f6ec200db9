using AccessLayer.Gateway.Mqtt;

namespace AccessLayer.Gateway.Tests.Broker;

public sealed class WriterBatchTests
{
    private sealed class CountingWriter(Action? onStart = null) : IDeferredWriter
    {
        public int Starts { get; private set; }

        public void StartDeferredWriter()
        {
            Starts++;
            onStart?.Invoke();
        }
    }

    [Fact]
    public void Without_an_open_batch_a_writer_is_not_deferred()
    {
        WriterBatch.Close();
        var writer = new CountingWriter();

        Assert.False(WriterBatch.TryDefer(writer));
        WriterBatch.Close();
        Assert.Equal(0, writer.Starts);
    }

    [Fact]
    public void Writers_woken_during_a_read_start_once_each_when_the_batch_closes()
    {
        var first = new CountingWriter();
        var second = new CountingWriter();

        WriterBatch.Open();
        Assert.True(WriterBatch.TryDefer(first));
        Assert.True(WriterBatch.TryDefer(second));
        Assert.Equal(0, first.Starts + second.Starts);
        WriterBatch.Close();
        WriterBatch.Close();

        Assert.Equal(1, first.Starts);
        Assert.Equal(1, second.Starts);
        Assert.False(WriterBatch.TryDefer(first));
    }

    [Fact]
    public void A_batch_is_per_thread()
    {
        var writer = new CountingWriter();
        var deferredElsewhere = true;
        WriterBatch.Open();
        try
        {
            var other = new Thread(() => deferredElsewhere = WriterBatch.TryDefer(writer));
            other.Start();
            other.Join();
            Assert.False(deferredElsewhere);
        }
        finally
        {
            WriterBatch.Close();
        }

        Assert.Equal(0, writer.Starts);
    }

    [Fact]
    public void A_writer_started_at_close_may_open_and_close_a_batch_of_its_own()
    {
        var inner = new CountingWriter();
        var outer = new CountingWriter(() =>
        {
            // A continuation run inline by the started writer: a reader handling its own read.
            WriterBatch.Open();
            Assert.True(WriterBatch.TryDefer(inner));
            WriterBatch.Close();
        });
        var last = new CountingWriter();

        WriterBatch.Open();
        WriterBatch.TryDefer(outer);
        WriterBatch.TryDefer(last);
        WriterBatch.Close();

        Assert.Equal([1, 1, 1], new[] { outer.Starts, inner.Starts, last.Starts });
    }
}
