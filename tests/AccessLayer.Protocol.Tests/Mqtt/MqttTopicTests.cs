using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Protocol.Tests.Mqtt;

public class MqttTopicTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("a/b/c")]
    [InlineData("/")]
    [InlineData("a//b")]
    [InlineData("$SYS/broker/load")]
    [InlineData("sport/tennis player1")]
    [InlineData("данные/🚗")]
    public void IsValidTopicName_accepts_names(string name)
    {
        Assert.True(MqttTopic.IsValidTopicName(name));
        Assert.True(MqttTopic.IsValidTopicName(System.Text.Encoding.UTF8.GetBytes(name)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/+")]
    [InlineData("a/#")]
    [InlineData("a+b")]
    [InlineData("a\0b")]
    public void IsValidTopicName_rejects_names(string name)
    {
        Assert.False(MqttTopic.IsValidTopicName(name));
    }

    [Fact]
    public void Lone_surrogates_are_rejected()
    {
        // Built in code: xunit's theory serialisation would replace a lone surrogate with U+FFFD.
        foreach (var bad in new[] { "bad" + '\uD800' + "x", "bad" + '\uDC00' + "x", "end" + '\uD83D' })
        {
            Assert.False(MqttTopic.IsValidTopicName(bad));
            Assert.False(MqttTopic.IsValidTopicFilter(bad));
        }

        Assert.True(MqttTopic.IsValidTopicName("pair" + '\uD83D' + '\uDE97'));
    }

    [Fact]
    public void IsValidTopicName_rejects_null()
    {
        Assert.False(MqttTopic.IsValidTopicName((string?)null));
    }

    [Fact]
    public void IsValidTopicName_allows_an_empty_utf8_name_only_when_asked()
    {
        Assert.False(MqttTopic.IsValidTopicName(ReadOnlySpan<byte>.Empty));
        Assert.True(MqttTopic.IsValidTopicName(ReadOnlySpan<byte>.Empty, allowEmpty: true));
    }

    [Fact]
    public void Topic_length_is_limited_to_65535_utf8_bytes()
    {
        Assert.True(MqttTopic.IsValidTopicName(new string('a', 65_535)));
        Assert.False(MqttTopic.IsValidTopicName(new string('a', 65_536)));
        Assert.True(MqttTopic.IsValidTopicName(new string('é', 32_767))); // 65534 bytes
        Assert.False(MqttTopic.IsValidTopicName(new string('é', 32_768))); // 65536 bytes
        Assert.False(MqttTopic.IsValidTopicFilter(new string('€', 21_846))); // 65538 bytes
    }

    [Theory]
    [InlineData("#")]
    [InlineData("+")]
    [InlineData("a/#")]
    [InlineData("+/+")]
    [InlineData("/+")]
    [InlineData("a/+/b")]
    [InlineData("sport/tennis/+/#")]
    [InlineData("a/b")]
    [InlineData("$share/group/a/#")]
    [InlineData("$share/g//")]
    [InlineData("$sharefoo/x")]
    [InlineData("$share")]
    public void IsValidTopicFilter_accepts_filters(string filter)
    {
        Assert.True(MqttTopic.IsValidTopicFilter(filter));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a#")]
    [InlineData("a/#/b")]
    [InlineData("#/a")]
    [InlineData("a+")]
    [InlineData("+a")]
    [InlineData("a/b+/c")]
    [InlineData("a/b#")]
    [InlineData("a\0")]
    [InlineData("$share/g")]
    [InlineData("$share//a")]
    [InlineData("$share/g/")]
    [InlineData("$share/g+/a")]
    [InlineData("$share/g#/a")]
    [InlineData("$share/g/a#")]
    public void IsValidTopicFilter_rejects_filters(string filter)
    {
        Assert.False(MqttTopic.IsValidTopicFilter(filter));
    }

    [Theory]
    [InlineData("$share/group/a/b", "group", "a/b")]
    [InlineData("$share/g/#", "g", "#")]
    [InlineData("$share/g//", "g", "/")]
    public void TryParseSharedSubscription_splits_group_and_filter(string value, string group, string filter)
    {
        Assert.True(MqttTopic.TryParseSharedSubscription(value, out var actualGroup, out var actualFilter));
        Assert.Equal(group, actualGroup);
        Assert.Equal(filter, actualFilter);
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("$share/g")]
    [InlineData("$share/g+/a")]
    [InlineData("$share/g/a/#/b")]
    [InlineData("$SHARE/g/a")]
    public void TryParseSharedSubscription_is_false_for_anything_else(string value)
    {
        Assert.False(MqttTopic.TryParseSharedSubscription(value, out _, out _));
    }
}
