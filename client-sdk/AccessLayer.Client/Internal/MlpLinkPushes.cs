using System.Threading.Channels;

namespace AccessLayer.Client.Internal;

/// <summary>
/// The pushes of one <see cref="MlpLink"/>: handed to the app in order on their own loop, each ACKed once
/// the app's handler returned; duplicates of pushes already processed are ACKed without being shown.
/// </summary>
internal sealed class MlpLinkPushes(MlpLink link, MlpClient client, CancellationToken closed)
{
    private readonly Channel<MlpPush> _channel = Channel.CreateUnbounded<MlpPush>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private Task _loop = Task.CompletedTask;

    public Task Completion => _loop;

    public void Start() => _loop = Task.Run(LoopAsync, CancellationToken.None);

    public void Enqueue(MlpPush push) => _channel.Writer.TryWrite(push);

    public void Complete() => _channel.Writer.TryComplete();

    private async Task LoopAsync()
    {
        await foreach (var push in _channel.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            if (push.Sequence != 0 && push.Sequence <= client.LastProcessedPushSequence)
            {
                // A duplicate of one already processed: not shown again, but ACKed (docs/protocol.md §10.3).
                await link.AckAsync(push.Sequence).ConfigureAwait(false);
                continue;
            }

            if (client.Options.OnPush is { } handler)
            {
                try
                {
                    await handler(push, closed).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (closed.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // The app's failure is its own; the push counts as processed.
                }
            }

            if (!link.IsUp)
                return;
            if (push.Sequence != 0)
            {
                client.LastProcessedPushSequence = push.Sequence;
                await link.AckAsync(push.Sequence).ConfigureAwait(false);
            }
        }
    }
}
