namespace AccessLayer.Gateway.Mqtt;

/// <summary>
/// Who a publish is routed for, as back-pressure sees it: told of every subscriber the publish reached
/// while that subscriber's writer was past its high watermark. A publishing connection stops reading until
/// the subscriber drains (<see cref="MqttConnection"/>); a batch forwarded by a fleet peer holds the peer's
/// link until its subscribers drain (<see cref="Fleet.ForwardedBatchPressure"/>).
/// </summary>
internal interface IPressureNotes
{
    void NotePressureFrom(MqttConnection subscriber);
}
