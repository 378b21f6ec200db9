namespace AccessLayer.SessionGrains.Hosting;

/// <summary>
/// A grain that lives only while it is being called: it deactivates after one quiet tick of
/// <see cref="IdleTick"/> (one to two ticks after its last call), so an offline device or user holds no grain memory.
/// Deactivating after every call instead (DeactivateOnIdle at the end of each) rejects every call already queued
/// behind it once Orleans' forwarding gives up: 50 concurrent calls to one device lost about three in four that way.
/// </summary>
internal abstract class BriefGrain : Grain
{
    /// <summary>How often an activation looks back for calls; Orleans' own idle collection (one minute at the least) is far longer.</summary>
    public static readonly TimeSpan IdleTick = TimeSpan.FromSeconds(1);

    private bool _called;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        this.RegisterGrainTimer(EndIfQuiet, new GrainTimerCreationOptions(IdleTick, IdleTick) { KeepAlive = false });
        return base.OnActivateAsync(cancellationToken);
    }

    /// <summary>Marks this tick as busy; every grain method calls it.</summary>
    protected void Called() => _called = true;

    private Task EndIfQuiet()
    {
        if (!_called)
        {
            DeactivateOnIdle();
        }

        _called = false;
        return Task.CompletedTask;
    }
}
