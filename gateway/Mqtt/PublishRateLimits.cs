using AccessLayer.Gateway.Governance;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>One connection's publish token buckets, made only when <see cref="LimitsOptions"/> sets a publish rate.</summary>
internal sealed class PublishRateLimits
{
    public TokenBucket Messages;
    public TokenBucket Bytes;
    public int MessageRate;
    public long ByteRate;
}
