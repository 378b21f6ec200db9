namespace AccessLayer.Client.Internal;

/// <summary>A request on a link waiting for its RESPONSE.</summary>
internal sealed class MlpPendingCall(bool requestCompressed, uint requestDictionaryId)
{
    public TaskCompletionSource<MlpResponse> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool RequestCompressed { get; } = requestCompressed;

    public uint RequestDictionaryId { get; } = requestDictionaryId;

    public long BytesSent { get; set; }

    /// <summary>When the request was written (the link's clock); 0 until then.</summary>
    public long SentTimestamp { get; set; }
}
