using AccessLayer.Gateway.Mqtt;

namespace AccessLayer.Gateway.Fleet;

/// <summary>
/// Back-pressure for a batch a fleet peer forwarded, as a publishing connection has it on one node: the
/// subscribers the batch reached while they were pressing are noted, and the batch's call returns only
/// once they drained (each wait bounded by <c>Limits:PublisherBackPressureWait</c>, with the same waiver).
/// The peer sends one batch at a time, so its forward queue fills and its publishers pause reading.
/// </summary>
internal sealed class ForwardedBatchPressure : IPressureNotes
{
    private List<MqttConnection>? _pressing;

    public void NotePressureFrom(MqttConnection subscriber)
    {
        if (!subscriber.IsPressing)
        {
            return;
        }

        _pressing ??= [];
        if (!_pressing.Contains(subscriber))
        {
            _pressing.Add(subscriber);
        }
    }

    /// <summary>Completes once every noted subscriber drained or its wait expired.</summary>
    public ValueTask WaitAsync()
    {
        if (_pressing is not { Count: > 0 } pressing)
        {
            return ValueTask.CompletedTask;
        }

        if (pressing.Count == 1)
        {
            return pressing[0].WaitForReliefAsync();
        }

        var waits = new Task[pressing.Count];
        for (var i = 0; i < waits.Length; i++)
        {
            waits[i] = pressing[i].WaitForReliefAsync().AsTask();
        }

        return new ValueTask(Task.WhenAll(waits));
    }
}
