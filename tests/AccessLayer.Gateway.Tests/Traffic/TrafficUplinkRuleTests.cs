using AccessLayer.Gateway.Traffic;

namespace AccessLayer.Gateway.Tests.Traffic;

/// <summary>An uplink rule matches topics as an MQTT subscription with the same filter would (MQTT 5 4.7).</summary>
public sealed class TrafficUplinkRuleTests
{
    [Theory]
    [InlineData("devices/+/telemetry", "devices/m1/telemetry", true)]
    [InlineData("devices/+/telemetry", "devices/m1/telemetry/x", false)]
    [InlineData("devices/+/telemetry", "devices/telemetry", false)]
    [InlineData("devices/+/telemetry", "devices//telemetry", true)]
    [InlineData("devices/#", "devices", true)]
    [InlineData("devices/#", "devices/a/b/c", true)]
    [InlineData("devices/#", "device", false)]
    [InlineData("a/+", "a/", true)]
    [InlineData("a/+", "a", false)]
    [InlineData("+", "a/b", false)]
    [InlineData("+/+", "/x", true)]
    [InlineData("#", "anything/at/all", true)]
    [InlineData("#", "$SYS/broker", false)]
    [InlineData("+/broker", "$SYS/broker", false)]
    [InlineData("$SYS/#", "$SYS/broker", true)]
    [InlineData("exact/topic", "exact/topic", true)]
    [InlineData("exact/topic", "exact/topicx", false)]
    public void A_rule_matches_topics_as_a_subscription_with_its_filter_would(string filter, string topic, bool matches)
    {
        var rule = new TrafficUplinkRule("r", filter, "svc", "r", alsoPublish: false, requireUid: false, line: 1);

        Assert.Equal(matches, rule.Matches(topic));
    }
}
