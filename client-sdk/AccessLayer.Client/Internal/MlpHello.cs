using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;
using Google.Protobuf;

namespace AccessLayer.Client.Internal;

/// <summary>The HELLO a client sends (docs/protocol.md §5.1): its capabilities, and the resume ticket or the device token.</summary>
internal static class MlpHello
{
    /// <param name="useTicket">Resume with <see cref="MlpClient.ResumeTicket"/> (and the last processed push) instead of the device token.</param>
    /// <param name="secondary">A secondary link for hedges (docs/protocol.md §5.6): it takes no session over.</param>
    public static Hello Build(MlpClient client, bool useTicket, bool secondary = false)
    {
        var options = client.Options;
        var hello = new Hello
        {
            ProtocolVersion = MlpLimits.ProtocolVersion,
            MinProtocolVersion = MlpLimits.ProtocolVersion,
            DeviceId = options.DeviceId,
            Capabilities = new Capabilities
            {
                HpackTableSize = (uint)options.HpackTableSize,
                MaxFrameSize = (uint)options.MaxFrameSize,
                MaxBodySize = (uint)options.MaxBodySize,
                Zstd = options.EnableCompression,
            },
            ClientTimeUnixMs = options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds(),
            Platform = options.Platform,
            AppVersion = options.AppVersion,
            NetworkType = options.NetworkType,
            Secondary = secondary,
        };
        if (options.EnableCompression)
            hello.Capabilities.DictionaryIds.AddRange(client.Bodies.HeldIds);
        if (useTicket)
        {
            hello.ResumeTicket = ByteString.CopyFrom(client.ResumeTicket.Span);
            if (!secondary)
                hello.LastPushSequence = client.LastProcessedPushSequence;
        }
        else
        {
            hello.DeviceToken = options.DeviceToken;
        }

        return hello;
    }
}
