namespace AccessLayer.Gateway.Tests.Telemetry;

/// <summary>
/// Tests that turn tracing on run alone: an ActivitySource's listeners are process-wide, so while one gateway
/// exports spans every gateway in the test process makes them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "telemetry";
}
