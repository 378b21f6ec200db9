namespace AccessLayer.Gateway.Transport;

/// <summary>Told by a transport that input is ready: bytes, the end of the stream, a canceled read, or a read failure.</summary>
internal interface IInputReadyHandler
{
    /// <summary>Runs once per <see cref="IParkedInputFeature.TryPark"/> that armed it (thread pool, or the I/O loop with inline continuations); must not throw.</summary>
    void OnInputReady();
}

/// <summary>
/// A transport that can serve an idle connection with nothing pending: no read awaiting its pipe, no pipeline
/// task watched. The application reads with <c>Input.TryRead</c>, parks when nothing is there, and is called
/// back when input arrives; it ends the connection with <see cref="Complete"/> instead of a task completing.
/// An idle connection then costs its objects' fields only (no async state machine, no continuation).
/// </summary>
internal interface IParkedInputFeature
{
    /// <summary>
    /// The application takes over the connection's lifetime: the task its pipeline returns is no longer what
    /// ends the connection; <see cref="Complete"/> is. Call before the first <see cref="TryPark"/>.
    /// </summary>
    void Detach();

    /// <summary>Arms <paramref name="handler"/> for the next input; false (nothing armed) when input is ready already: read now.</summary>
    bool TryPark(IInputReadyHandler handler);

    /// <summary>The detached application is done: completion callbacks run and the connection is disposed, as when a pipeline ends. A failure is reported as a failed pipeline's.</summary>
    void Complete(Exception? failure);
}
