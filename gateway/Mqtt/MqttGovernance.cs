using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Security;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>The governance services the broker consults, in one place so its constructor stays small.</summary>
internal sealed class MqttGovernance(
    ConnectGate gate,
    AclRuleSet acl,
    FlappingDetector flapping,
    MemoryWatermark memory,
    IOptions<LimitsOptions> limits,
    IOptions<MqttOptions> mqtt,
    IOptions<AuthOptions> auth)
{
    public ConnectGate Gate { get; } = gate;

    public AclRuleSet Acl { get; } = acl;

    public FlappingDetector Flapping { get; } = flapping;

    public MemoryWatermark Memory { get; } = memory;

    public LimitsOptions Limits { get; } = limits.Value;

    /// <summary><c>Auth:ClientIdPrefix</c>: which client ids an identity may use.</summary>
    public ClientIdRule ClientIds { get; } = new(auth.Value.ClientIdPrefix);

    /// <summary><c>Limits:HandshakeTimeout</c>, else the older <c>Mqtt:ConnectTimeoutSeconds</c>.</summary>
    public TimeSpan HandshakeTimeout => Limits.HandshakeTimeout ?? TimeSpan.FromSeconds(mqtt.Value.ConnectTimeoutSeconds);
}
