using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions.Routing;

namespace AccessLayer.Sessions.Tests.Routing;

public class SubscriberSetTests
{
    [Fact]
    public void Set_adds_once_and_replaces_options_of_existing_client()
    {
        var set = new SubscriberSet();
        Assert.True(set.Set("a", new SubscriptionOptions(MqttQualityOfService.AtMostOnce)));
        Assert.False(set.Set("a", new SubscriptionOptions(MqttQualityOfService.ExactlyOnce)));
        Assert.Equal(1, set.Count);
        Assert.Equal(MqttQualityOfService.ExactlyOnce, set[0].Options.MaximumQualityOfService);
    }

    [Fact]
    public void Random_adds_and_removes_across_index_threshold_keep_set_consistent()
    {
        var set = new SubscriberSet();
        var model = new Dictionary<string, byte>();
        var random = new Random(1234);
        for (int step = 0; step < 5000; step++)
        {
            string id = $"c{random.Next(40)}";
            if (random.Next(3) == 0)
            {
                Assert.Equal(model.Remove(id), set.Remove(id));
            }
            else
            {
                byte qos = (byte)random.Next(3);
                Assert.Equal(model.TryAdd(id, qos), set.Set(id, new SubscriptionOptions((MqttQualityOfService)qos)));
                model[id] = qos;
            }

            Assert.Equal(model.Count, set.Count);
        }

        var actual = new Dictionary<string, byte>();
        foreach (SubscriberSet.Entry entry in set.Entries)
        {
            actual.Add(entry.ClientId, (byte)entry.Options.MaximumQualityOfService);
        }

        Assert.Equal(model.OrderBy(p => p.Key), actual.OrderBy(p => p.Key));
    }
}
