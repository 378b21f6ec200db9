namespace AccessLayer.SessionGrains.Mlp;

/// <summary>What a user grain persists: each device and when it went offline (null while connected).</summary>
[GenerateSerializer]
public sealed class MlpUserGrainState
{
    [Id(0)]
    public Dictionary<string, DateTimeOffset?> Devices { get; set; } = new(StringComparer.Ordinal);
}
