namespace AccessLayer.Gateway.Governance;

/// <summary>
/// What a drain asks of the clients it moves: the MQTT 5.0 server reference, whether wills are
/// published, and (from the live fleet, when there is one) the MLP endpoints a GOAWAY names.
/// </summary>
internal sealed record DrainContext(string? ServerReference, bool PublishWills, IReadOnlyList<string>? MlpEndpoints = null);

/// <summary>Where drained clients should go when the configuration does not say: live peers of the fleet.</summary>
internal interface IDrainTargets
{
    /// <summary>An MQTT <c>host:port</c> and MLP endpoints of nodes that take clients now; nulls/empty when none is known.</summary>
    Task<(string? ServerReference, IReadOnlyList<string> MlpEndpoints)> ResolveAsync(CancellationToken cancellationToken);
}

/// <summary>
/// A protocol whose connections a drain moves away (MQTT here; MLP implements it with GOAWAY).
/// Register it as <c>services.AddSingleton&lt;IDrainParticipant, ...&gt;()</c>; the
/// <see cref="DrainCoordinator"/> shares its rate across every participant.
/// </summary>
internal interface IDrainParticipant
{
    /// <summary>Protocol name, for metrics and the drain status ("mqtt", "mlp").</summary>
    string Protocol { get; }

    /// <summary>Connections still open, including those already told to go.</summary>
    int ConnectionCount { get; }

    /// <summary>Whether some connection has not been told to go yet.</summary>
    bool HasClientsToMove { get; }

    /// <summary>
    /// Tells up to <paramref name="maxCount"/> connections not yet told to go elsewhere, and
    /// starts closing them; returns how many it told. Must not block: called once per drain tick.
    /// </summary>
    int MoveClients(int maxCount, DrainContext context);
}
