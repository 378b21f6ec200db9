using AccessLayer.Sessions.Topics;

namespace AccessLayer.Sessions.Tests.Topics;

public class LevelMapTests
{
    [Fact]
    public void Get_finds_single_inline_child_by_span()
    {
        var map = default(LevelMap<string>);
        map.Add("telemetry", "T");
        Assert.Equal("T", map.Get("a/telemetry".AsSpan(2)));
        Assert.Null(map.Get("telemetr"));
        Assert.Equal(1, map.Count);
    }

    [Fact]
    public void Add_second_child_moves_to_dictionary_and_keeps_both()
    {
        var map = default(LevelMap<string>);
        map.Add("a", "A");
        map.Add("b", "B");
        map.Add("c", "C");
        Assert.Equal(3, map.Count);
        Assert.Equal("A", map.Get("a"));
        Assert.Equal("C", map.Get("c"));
        var seen = new List<string>();
        foreach (KeyValuePair<string, string> pair in map)
        {
            seen.Add(pair.Key + pair.Value);
        }

        Assert.Equal(["aA", "bB", "cC"], seen.Order());
    }

    [Fact]
    public void Remove_empties_map_whether_inline_or_dictionary()
    {
        var inline = default(LevelMap<string>);
        inline.Add("x", "X");
        Assert.False(inline.Remove("y"));
        Assert.True(inline.Remove("x"));
        Assert.Equal(0, inline.Count);
        Assert.Null(inline.Get("x"));

        var many = default(LevelMap<string>);
        many.Add("x", "X");
        many.Add("y", "Y");
        Assert.True(many.Remove("x"));
        Assert.True(many.Remove("y"));
        Assert.False(many.Remove("y"));
        Assert.Equal(0, many.Count);
        foreach (KeyValuePair<string, string> unused in many)
        {
            Assert.Fail("empty map enumerated an entry");
        }
    }

    [Fact]
    public void Empty_key_is_a_key_like_any_other()
    {
        var map = default(LevelMap<string>);
        map.Add(string.Empty, "root-level");
        map.Add("a", "A");
        Assert.Equal("root-level", map.Get(ReadOnlySpan<char>.Empty));
    }
}
