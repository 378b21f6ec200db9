using AccessLayer.Gateway.Dashboard;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Mlp;
using AccessLayer.Gateway.Mlp.Connections;
using AccessLayer.Gateway.Mlp.Fleet;
using AccessLayer.Gateway.Mqtt;
using AccessLayer.Protocol.Mqtt;
using AccessLayer.SessionGrains.Fleet;
using AccessLayer.SessionGrains.Forwarding;
using AccessLayer.SessionGrains.Hosting;
using AccessLayer.SessionGrains.Mlp;
using AccessLayer.SessionGrains.Nodes;
using AccessLayer.SessionGrains.Sessions;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Fleet;

/// <summary>This node's protocols as the fleet sees them: the broker takes forwards and hands sessions over; MLP takes pushes and hands device sessions over; the dashboard reads its samples and drain.</summary>
internal sealed class GatewayFleetMember(
    MqttBroker broker,
    MlpConnectionRegistry mlp,
    MlpFleetSessions mlpFleet,
    GatewayReadiness readiness,
    IServiceProvider services,
    IOptions<FleetOptions> fleet,
    IOptions<MqttOptions> mqtt,
    IOptions<MlpOptions> mlpOptions) : IFleetLocalNode
{
    private readonly string _mqttEndpoint = fleet.Value.MqttEndpoint ?? FleetEndpoint.Format(fleet.Value.AdvertisedAddress, mqtt.Value.Port);
    private readonly string _mlpEndpoint = fleet.Value.MlpEndpoint ?? FleetEndpoint.Format(fleet.Value.AdvertisedAddress, mlpOptions.Value.Port);

    /// <summary>
    /// As a read does (<see cref="WriterBatch"/>): the writers the batch wakes start once it is delivered, so a subscriber
    /// that gets many of its messages goes out in one send rather than one per message. Then, as a publisher would, it
    /// waits for the subscribers it found pressing (<see cref="ForwardedBatchPressure"/>): the peer sends its next batch after.
    /// </summary>
    public async ValueTask DeliverForwardedAsync(IReadOnlyList<ForwardedMessage> messages)
    {
        var pressure = new ForwardedBatchPressure();
        WriterBatch.Open();
        try
        {
            foreach (var message in messages)
            {
                var delivery = broker.DeliverForwardedAsync(message, pressure);
                if (!delivery.IsCompleted)
                {
                    // About to wait (and maybe resume on another thread): start what was woken so far first.
                    WriterBatch.Close();
                    await delivery.ConfigureAwait(false);
                    WriterBatch.Open();
                }
                else
                {
                    await delivery.ConfigureAwait(false);
                }
            }
        }
        finally
        {
            WriterBatch.Close();
        }

        await pressure.WaitAsync().ConfigureAwait(false);
    }

    public async ValueTask PublishWillAsync(MqttApplicationMessage will) =>
        await broker.PublishAsync(will, publisherClientId: null).ConfigureAwait(false);

    public ValueTask<SessionHandover?> HandOverSessionAsync(string clientId, long epoch) => broker.HandOverAsync(clientId);

    public async ValueTask<IReadOnlyList<MqttApplicationMessage>> ExportRetainedAsync()
    {
        var messages = new List<MqttApplicationMessage>();
        foreach (var retained in await broker.Retained.MatchAsync("#").ConfigureAwait(false))
        {
            messages.Add(retained.RemainingExpiryInterval == retained.Message.MessageExpiryInterval
                ? retained.Message
                : retained.Message.WithMessageExpiryInterval(retained.RemainingExpiryInterval));
        }

        return messages;
    }

    public async ValueTask ImportRetainedAsync(MqttApplicationMessage message) =>
        await broker.Retained.SetAsync(message).ConfigureAwait(false);

    public async ValueTask<MlpPushReply> PushMlpAsync(string deviceId, byte[] push, bool sequenced) =>
        await mlpFleet.PushHereAsync(deviceId, MlpFleetCodec.DecodePush(push), sequenced).ConfigureAwait(false);

    public ValueTask<byte[]?> HandOverMlpAsync(string deviceId, long epoch) => mlpFleet.HandOverHereAsync(deviceId, epoch);

    public ValueTask PullMlpAsync(string deviceId) => mlpFleet.PullHereAsync(deviceId);

    public NodeInfo Describe(string nodeId) =>
        new(nodeId, _mqttEndpoint, _mlpEndpoint, broker.ConnectedClientCount, mlp.DeviceCount, !readiness.IsReady, 0);

    // Resolved when a peer first asks, not when the fleet attaches this node (while the app is built): their options
    // are validated at start, and a bad value must stop the gateway there, as it did before.
    public NodeStats Stats(string nodeId, DateTimeOffset since) => services.GetRequiredService<NodeStatsSampler>().Stats(nodeId, since);

    public NodeDrainStatus Drain(NodeDrainCommand command) => LocalNodeDrain.Apply(services.GetRequiredService<DrainCoordinator>(), command);
}
