namespace AccessLayer.Gateway.Governance;

/// <summary>What a drain asks of the clients it moves.</summary>
internal sealed record DrainContext(string? ServerReference, bool PublishWills);

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
