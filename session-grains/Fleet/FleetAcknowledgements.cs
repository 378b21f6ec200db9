using AccessLayer.Sessions.Store;

namespace AccessLayer.SessionGrains.Fleet;

/// <summary>Removes an acknowledged delivery from the durable queue it sits in (if it does).</summary>
internal sealed class FleetAcknowledgements(IFleet fleet) : IDeliveryAcknowledgements
{
    public void Acknowledged(string clientId, MessageDelivery delivery)
    {
        if (delivery.DurableId != Guid.Empty)
        {
            fleet.Acknowledge(clientId, delivery.DurableId);
        }
    }
}
