using AccessLayer.Gateway.Transport;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>
/// The read loop without a parked async method: on a transport that offers <see cref="IParkedInputFeature"/>
/// (the epoll engine) the connection reads what is there with <c>TryRead</c>, handles it, and parks again; the
/// transport calls <see cref="IInputReadyHandler.OnInputReady"/> when bytes arrive. An idle connection then
/// holds no state machine box and no continuation (<see cref="RunAsync"/> keeps 176 B + the transport's 64 B
/// watcher alive per connection). Packet handling, the end of the connection and every close path are the
/// same methods <see cref="RunAsync"/> uses.
/// </summary>
internal sealed partial class MqttConnection : IInputReadyHandler
{
    // The transport is its own parked-input feature (checked by StartParked): no field for it.
    private IParkedInputFeature Parked => (IParkedInputFeature)_transport;

    /// <summary>Takes the connection's lifetime from the transport and reads what is there; returns once parked, ended, or waiting in a handler.</summary>
    public void StartParked()
    {
        if (_transport is not IParkedInputFeature parked)
        {
            throw new InvalidOperationException("The transport cannot park a connection's input.");
        }

        parked.Detach();
        Pump();
    }

    void IInputReadyHandler.OnInputReady() => Pump();

    /// <summary>Handles input until none is left (then parks), a handler really waits (then <see cref="ResumeAsync"/> continues), or the connection ends.</summary>
    private void Pump()
    {
        try
        {
            var input = Input;
            while (true)
            {
                if (!input.TryRead(out var result))
                {
                    if (Parked.TryPark(this))
                    {
                        return;
                    }

                    // Input arrived between the read and the park: read again.
                    continue;
                }

                var processing = ProcessAsync(result);
                if (!processing.IsCompleted)
                {
                    _ = ResumeAsync(processing);
                    return;
                }

                if (!processing.Result)
                {
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            // As in RunAsync: EndAsync sorts it out.
            Rare.Failure = ex;
        }

        _ = FinishAsync();
    }

    /// <summary>A handler waited (a store, the fleet, a slow subscriber): the only time a parked connection holds a state machine.</summary>
    private async Task ResumeAsync(ValueTask<bool> processing)
    {
        bool more;
        try
        {
            more = await processing.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Rare.Failure = ex;
            more = false;
        }

        if (more)
        {
            Pump();
        }
        else
        {
            await FinishAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Settles the session as <see cref="RunAsync"/> does at its end, then hands the connection back to the transport.</summary>
    private async Task FinishAsync()
    {
        Exception? unexpected = null;
        try
        {
            await EndAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            unexpected = ex;
        }

        Parked.Complete(unexpected);
    }
}
