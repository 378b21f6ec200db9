using System.Text;
using AccessLayer.Protocol.Hpack;

namespace AccessLayer.Protocol.Tests.Hpack;

public class HpackStaticTableTests
{
    [Theory]
    [InlineData(1, ":authority", "")]
    [InlineData(2, ":method", "GET")]
    [InlineData(8, ":status", "200")]
    [InlineData(16, "accept-encoding", "gzip, deflate")]
    [InlineData(23, "authorization", "")]
    [InlineData(55, "set-cookie", "")]
    [InlineData(61, "www-authenticate", "")]
    public void Entries_match_rfc_appendix_a(int index, string name, string value)
    {
        Assert.Equal(name, Encoding.ASCII.GetString(HpackStaticTable.GetName(index)));
        Assert.Equal(value, Encoding.ASCII.GetString(HpackStaticTable.GetValue(index)));
    }

    [Theory]
    [InlineData(":status", "404", 13, 8)]
    [InlineData(":status", "201", 0, 8)]
    [InlineData(":path", "/index.html", 5, 4)]
    [InlineData("user-agent", "x", 0, 58)]
    [InlineData("x-unknown", "", 0, 0)]
    [InlineData("authorization", "", 23, 23)]
    public void Find_returns_full_match_and_first_name_match(string name, string value, int expected, int expectedName)
    {
        var bytes = Encoding.ASCII.GetBytes(name);
        var index = HpackStaticTable.Find(bytes, HpackStaticTable.HashName(bytes), Encoding.ASCII.GetBytes(value), out var nameIndex);
        Assert.Equal(expected, index);
        Assert.Equal(expectedName, nameIndex);
    }
}
