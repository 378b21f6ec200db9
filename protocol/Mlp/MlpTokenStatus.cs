namespace AccessLayer.Protocol.Mlp;

/// <summary>Outcome of checking a device token; anything but <see cref="Valid"/> is AUTH_FAILED on the wire.</summary>
public enum MlpTokenStatus
{
    Valid = 0,
    Malformed = 1,
    BadSignature = 2,
    Expired = 3,
}
