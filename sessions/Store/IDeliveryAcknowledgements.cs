namespace AccessLayer.Sessions.Store;

/// <summary>
/// Told when a client acknowledged an outgoing QoS 1/2 delivery (PUBACK, or PUBCOMP/PUBREC with an
/// error ends it). The fleet removes the delivery from the durable queue it also sits in.
/// </summary>
public interface IDeliveryAcknowledgements
{
    /// <summary>Called once per completed delivery, outside any store lock; must not block.</summary>
    void Acknowledged(string clientId, MessageDelivery delivery);
}
