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
            if (!await DeliverAsync(push).ConfigureAwait(false))
                return;
            if (push.Sequence != 0)
                await link.AckAsync(push.Sequence).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Hands one push to the app unless it was processed already (false: the link closed while the app had it).
    /// One push at a time across all of the client's links (docs/sdk.md "Cloud compensation"): a re-delivery
    /// on the next link waits for the old link's handler and is then seen as the duplicate it is.
    /// </summary>
    private async Task<bool> DeliverAsync(MlpPush push)
    {
        try
        {
            await client.PushGate.WaitAsync(closed).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        try
        {
            // A duplicate of one already processed: not shown again, but ACKed (docs/protocol.md §10.3).
            if (push.Sequence != 0 && push.Sequence <= client.LastProcessedPushSequence)
                return true;
            if (client.Options.OnPush is { } handler)
            {
                try
                {
                    await handler(push, closed).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (closed.IsCancellationRequested)
                {
                    // Given up on because the link closed: not processed, the server re-delivers it.
                    return false;
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // The app's failure is its own; the push counts as processed.
                }
            }

            // Processed, whatever happened to the link meanwhile: a re-delivery on the next link is a duplicate.
            if (push.Sequence != 0)
                client.LastProcessedPushSequence = push.Sequence;
            return link.IsUp;
        }
        finally
        {
            client.PushGate.Release();
        }
    }
}
