using AccessLayer.Fuzz.Targets;

namespace AccessLayer.Fuzz;

/// <summary>The targets by command name.</summary>
public static class FuzzTargets
{
    public static readonly IReadOnlyDictionary<string, Func<IFuzzTarget>> All = new Dictionary<string, Func<IFuzzTarget>>(StringComparer.Ordinal)
    {
        ["mqtt"] = () => new MqttFuzzTarget(),
        ["mlp"] = () => new MlpFuzzTarget(),
        ["hpack"] = () => new HpackFuzzTarget(),
        ["zstd"] = () => new ZstdFuzzTarget(),
        ["websocket"] = () => new WebSocketFuzzTarget(),
    };
}
