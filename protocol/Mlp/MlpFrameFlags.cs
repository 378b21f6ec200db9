namespace AccessLayer.Protocol.Mlp;

/// <summary>
/// The low nibble of a frame's first byte. Each bit means one thing in every frame type
/// that defines it; senders leave undefined bits clear and receivers ignore them.
/// </summary>
[Flags]
public enum MlpFrameFlags : byte
{
    None = 0,

    /// <summary>REQUEST, RESPONSE, PUSH: the body is one zstd frame (its header names the dictionary).</summary>
    BodyZstd = 0x1,

    /// <summary>REQUEST: safe to execute more than once, so the client may resend it after a lost link.</summary>
    Idempotent = 0x2,

    /// <summary>REQUEST: the client expects no RESPONSE (ERROR can still come).</summary>
    OneWay = 0x4,

    /// <summary>PUSH: sent before on an earlier connection and not acknowledged; the client may have seen it.</summary>
    Redelivered = 0x8,
}
