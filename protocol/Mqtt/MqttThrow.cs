using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Throw helpers kept out of line so hot decode paths stay small and inlinable.</summary>
internal static class MqttThrow
{
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Malformed(string message) => throw new MqttProtocolException(MqttReasonCode.MalformedPacket, message);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Protocol(string message) => throw new MqttProtocolException(MqttReasonCode.ProtocolError, message);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void With(MqttReasonCode reasonCode, string message) => throw new MqttProtocolException(reasonCode, message);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Truncated() => throw new MqttProtocolException(MqttReasonCode.MalformedPacket, "A declared length runs past the end of the packet.");
}
