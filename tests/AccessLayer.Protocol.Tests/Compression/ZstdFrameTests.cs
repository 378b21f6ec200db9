using AccessLayer.Protocol.Compression;

namespace AccessLayer.Protocol.Tests.Compression;

public sealed class ZstdFrameTests
{
    [Fact]
    public void TryGetContentSize_reads_the_declared_size()
    {
        Assert.True(ZstdFrame.TryGetContentSize(ZstdTestFrames.DeclaringContentSize(1UL << 40), out var size));
        Assert.Equal(1UL << 40, size);
    }

    [Fact]
    public void TryGetContentSize_is_false_when_the_header_omits_it()
    {
        Assert.False(ZstdFrame.TryGetContentSize(ZstdTestFrames.RleWithoutContentSize(1, 10), out _));
    }

    [Fact]
    public void TryGetContentSize_rejects_bytes_that_are_not_a_frame()
    {
        var error = Assert.Throws<ZstdException>(() => ZstdFrame.TryGetContentSize([1, 2, 3, 4, 5, 6], out _));
        Assert.Equal(ZstdErrorKind.CorruptedData, error.Kind);
    }

    [Fact]
    public void GetDictionaryId_is_zero_for_garbage_and_frames_without_dictionary()
    {
        Assert.Equal(0u, ZstdFrame.GetDictionaryId([1, 2, 3]));
        Assert.Equal(0u, ZstdFrame.GetDictionaryId(ZstdTestFrames.DeclaringContentSize(5)));
    }

    [Fact]
    public void GetMaxCompressedLength_covers_incompressible_input()
    {
        Assert.True(ZstdFrame.GetMaxCompressedLength(2048) > 2048);
        Assert.True(ZstdFrame.Magic.SequenceEqual(new byte[] { 0x28, 0xB5, 0x2F, 0xFD }));
    }
}
