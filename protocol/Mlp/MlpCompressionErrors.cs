using AccessLayer.Protocol.Compression;

namespace AccessLayer.Protocol.Mlp;

/// <summary>Maps a failed body decompression to the stream error the spec prescribes (§8).</summary>
public static class MlpCompressionErrors
{
    public static MlpErrorCode ToErrorCode(ZstdErrorKind kind) => kind switch
    {
        ZstdErrorKind.UnknownDictionary => MlpErrorCode.UnknownDictionary,
        ZstdErrorKind.DecompressedSizeExceeded => MlpErrorCode.BodyTooLarge,
        _ => MlpErrorCode.CompressionError,
    };

    /// <summary>The stream error for <paramref name="error"/> on <paramref name="streamId"/>.</summary>
    public static MlpProtocolException ToProtocolException(ZstdException error, uint streamId)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new MlpProtocolException(ToErrorCode(error.Kind), error.Message, error, streamId);
    }
}
