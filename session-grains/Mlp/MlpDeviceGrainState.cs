namespace AccessLayer.SessionGrains.Mlp;

/// <summary>What a device grain persists (Redis in a fleet). Kept when the device goes offline, so epochs only grow.</summary>
[GenerateSerializer]
public sealed class MlpDeviceGrainState
{
    [Id(0)]
    public string? Node { get; set; }

    [Id(1)]
    public long Epoch { get; set; }

    [Id(2)]
    public string? UserId { get; set; }
}
