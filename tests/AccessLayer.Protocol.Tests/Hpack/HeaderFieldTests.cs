using AccessLayer.Protocol.Hpack;

namespace AccessLayer.Protocol.Tests.Hpack;

public class HeaderFieldTests
{
    [Fact]
    public void Size_is_32_plus_utf8_octets_of_name_and_value()
    {
        Assert.Equal(55, new HeaderField("custom-key", "custom-header").Size);
        Assert.Equal(32 + 1 + 2, new HeaderField("x", "é").Size);
    }

    [Fact]
    public void NeverIndex_defaults_to_false_and_takes_part_in_equality()
    {
        Assert.False(new HeaderField("a", "b").NeverIndex);
        Assert.NotEqual(new HeaderField("a", "b"), new HeaderField("a", "b", NeverIndex: true));
    }
}
