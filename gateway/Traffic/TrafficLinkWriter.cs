using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Channels;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// The sending half of a site link, either side: frames (pooled arrays from <see cref="TrafficLinkFrames"/>) are queued
/// by the calls and written by one loop, which copies every frame waiting into the pipe and flushes once, so calls in
/// flight together share a send. Woken from idle by a frame, the loop first lets the work already queued on the thread
/// pool run (the other calls finishing with it), so their frames join the same send. The queue holds at most the calls
/// in flight on the link (each has one frame out).
/// </summary>
internal sealed class TrafficLinkWriter
{
    private readonly Channel<(byte[] Frame, int Length)> _frames = Channel.CreateUnbounded<(byte[], int)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly PipeWriter _output;

    public TrafficLinkWriter(PipeWriter output)
    {
        _output = output;
        Completion = RunAsync();
    }

    /// <summary>Ends when the link can send no more (the pipe refused a write, or <see cref="Complete"/>).</summary>
    public Task Completion { get; }

    /// <summary>Queues a pooled frame; it goes back to the pool once written, or at once when the link is done.</summary>
    public void Send(byte[] frame, int length)
    {
        if (!_frames.Writer.TryWrite((frame, length)))
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    public void Complete() => _frames.Writer.TryComplete();

    private async Task RunAsync()
    {
        var reader = _frames.Reader;
        try
        {
            while (true)
            {
                var waiting = reader.WaitToReadAsync();
                if (!waiting.IsCompleted)
                {
                    if (!await waiting.ConfigureAwait(false))
                    {
                        break;
                    }

                    // Woken by one frame: the calls that became ready with it (their work items queued behind this one)
                    // queue theirs first, and all of them go in one write instead of one each.
                    await Task.Yield();
                }
                else if (!waiting.Result)
                {
                    break;
                }

                while (reader.TryRead(out var item))
                {
                    _output.Write(item.Frame.AsSpan(0, item.Length));
                    ArrayPool<byte>.Shared.Return(item.Frame);
                }

                var flushed = await _output.FlushAsync().ConfigureAwait(false);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            // The connection is gone: the read side sees it too and fails what is in flight.
        }
        finally
        {
            _frames.Writer.TryComplete();
            while (reader.TryRead(out var item))
            {
                ArrayPool<byte>.Shared.Return(item.Frame);
            }
        }
    }
}
