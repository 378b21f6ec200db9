namespace AccessLayer.SessionGrains.Forwarding;

/// <summary>
/// How a <see cref="NodeForwarder"/> gets a batch to its peer. <paramref name="frame"/> in <see cref="SendAsync"/> starts with
/// <see cref="ForwardFrames.HeaderSize"/> bytes reserved for the channel's own header; the batch follows. Completing means the
/// next batch may go: it arrives after this one. A channel gives up when the token is cancelled (the forwarder stops).
/// </summary>
internal interface IPeerChannel : IAsyncDisposable
{
    ValueTask SendAsync(Memory<byte> frame, CancellationToken cancellationToken);
}
