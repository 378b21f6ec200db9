using Microsoft.Extensions.DependencyInjection;

namespace AccessLayer.Mlp.Tests.Infrastructure;

/// <summary>The gateway's <c>mlp.call_copies.coalesced</c> (its own meter factory's, not another test's gateway's).</summary>
internal sealed class CoalescedCopies : IDisposable
{
    private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
    private long _count;

    public CoalescedCopies(MlpTestGateway gateway)
    {
        var factory = gateway.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name == "mlp.call_copies.coalesced" && ReferenceEquals(instrument.Meter.Scope, factory))
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _count, value));
        _listener.Start();
    }

    public Task WaitForAsync(long count) =>
        Eventually.TrueAsync(() => Interlocked.Read(ref _count) >= count, () => $"{count} copies should have been coalesced, saw {Interlocked.Read(ref _count)}");

    public void Dispose() => _listener.Dispose();
}
