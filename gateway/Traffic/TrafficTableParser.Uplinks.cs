using AccessLayer.Protocol.Mqtt;
using YamlDotNet.RepresentationModel;

namespace AccessLayer.Gateway.Traffic;

/// <summary>The <c>uplinks</c> list of the table: MQTT topic-filter rules (docs/traffic.md, "MQTT uplinks").</summary>
internal static partial class TrafficTableParser
{
    private static List<TrafficUplinkRule> Uplinks(YamlNode node, Dictionary<string, TrafficZone> zones)
    {
        if (node is not YamlSequenceNode rules)
        {
            throw new TrafficTableException("uplinks is a list of rules", Line(node));
        }

        var result = new List<TrafficUplinkRule>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var ruleNode in rules)
        {
            var rule = Mapping(ruleNode, "uplink rule");
            Keys(rule, "name", "topic", "service", "operation", "mode", "requireUid", "batchSize", "batchBytes", "lingerMs");
            var nameNode = Required(rule, "name");
            var name = Scalar(nameNode, "uplink rule name");
            if (!names.Add(name))
            {
                throw new TrafficTableException($"uplink rule {name} is given twice", Line(nameNode));
            }

            var topicNode = Required(rule, "topic");
            var topic = Scalar(topicNode, $"uplink rule {name} topic");
            if (!MqttTopic.IsValidTopicFilter(topic) || MqttTopic.IsSharedSubscription(topic))
            {
                throw new TrafficTableException($"uplink rule {name}: topic {topic} is not an MQTT topic filter (+ for one level, # last, no $share/)", Line(topicNode));
            }

            var serviceNode = Required(rule, "service");
            var service = Scalar(serviceNode, $"uplink rule {name} service");
            if (!zones.Values.Any(z => z.Services.ContainsKey(service)))
            {
                throw new TrafficTableException($"uplink rule {name}: no zone has a service named {service}", Line(serviceNode));
            }

            var operation = name;
            if (Optional(rule, "operation") is { } operationNode)
            {
                operation = Scalar(operationNode, $"uplink rule {name} operation");
                if (operation.AsSpan().IndexOfAny("/?#%\\") >= 0 || operation is "." or "..")
                {
                    throw new TrafficTableException($"uplink rule {name}: operation {operation} is one path segment (no / ? # % \\)", Line(operationNode));
                }
            }

            var alsoPublish = false;
            if (Optional(rule, "mode") is { } modeNode)
            {
                alsoPublish = Scalar(modeNode, $"uplink rule {name} mode") switch
                {
                    "forward" => false,
                    "forward-and-publish" => true,
                    var other => throw new TrafficTableException($"uplink rule {name}: mode {other} is forward or forward-and-publish", Line(modeNode)),
                };
            }

            var requireUid = false;
            if (Optional(rule, "requireUid") is { } requireNode && !bool.TryParse(Scalar(requireNode, $"uplink rule {name} requireUid"), out requireUid))
            {
                throw new TrafficTableException($"uplink rule {name}: requireUid is true or false", Line(requireNode));
            }

            // This rule's own batching, each in place of its Traffic:Uplink* default when given.
            var batch = TrafficUplinkBatching.Of(
                Optional(rule, "batchSize") is { } sizeNode ? (int)Long(sizeNode, $"uplink rule {name} batchSize", 1, TrafficUplinkBatching.MaxBatchSize) : null,
                Optional(rule, "batchBytes") is { } bytesNode ? (int)Long(bytesNode, $"uplink rule {name} batchBytes", TrafficUplinkBatching.MinBatchBytes, TrafficUplinkBatching.MaxBatchBytes) : null,
                Optional(rule, "lingerMs") is { } lingerNode ? TimeSpan.FromMilliseconds(Long(lingerNode, $"uplink rule {name} lingerMs", 0, TrafficUplinkBatching.MaxLingerMs)) : null);
            result.Add(new TrafficUplinkRule(name, topic, service, operation, alsoPublish, requireUid, Line(ruleNode)) { Batching = batch });
        }

        return result;
    }
}
