using AccessLayer.Protocol.Compression;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Protocol.Tests.Mlp;

public sealed class MlpCompressionErrorsTests
{
    [Theory]
    [InlineData(ZstdErrorKind.UnknownDictionary, MlpErrorCode.UnknownDictionary)]
    [InlineData(ZstdErrorKind.DecompressedSizeExceeded, MlpErrorCode.BodyTooLarge)]
    [InlineData(ZstdErrorKind.CorruptedData, MlpErrorCode.CompressionError)]
    [InlineData(ZstdErrorKind.ContentSizeUnknown, MlpErrorCode.CompressionError)]
    [InlineData(ZstdErrorKind.DictionaryMismatch, MlpErrorCode.CompressionError)]
    public void Maps_zstd_failures_to_the_spec_stream_errors(ZstdErrorKind kind, MlpErrorCode expected)
    {
        Assert.Equal(expected, MlpCompressionErrors.ToErrorCode(kind));
    }

    [Fact]
    public void Protocol_exception_is_a_stream_error_on_the_given_stream()
    {
        var error = MlpCompressionErrors.ToProtocolException(new ZstdException(ZstdErrorKind.UnknownDictionary, "no", 40001), 7);

        Assert.Equal(MlpErrorCode.UnknownDictionary, error.Code);
        Assert.Equal(7u, error.StreamId);
        Assert.False(error.IsConnectionError);
        Assert.IsType<ZstdException>(error.InnerException);
    }
}
