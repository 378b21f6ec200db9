namespace AccessLayer.Protocol.Hpack;

/// <summary>
/// Receives decoded header fields. The spans are valid only during the call (they point into the input
/// block, the dynamic table or a pooled scratch buffer); copy what you keep.
/// </summary>
public interface IHpackHeaderHandler
{
    void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value);
}
