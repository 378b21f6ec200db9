using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Gateway.Mlp.Http;

/// <summary>The HTTP status of a fallback answer carrying an MLP error (docs/protocol.md §15.2).</summary>
internal static class MlpFallbackStatus
{
    public static int For(MlpErrorCode code) => code switch
    {
        MlpErrorCode.AuthFailed or MlpErrorCode.ResumeRejected => StatusCodes.Status401Unauthorized,
        MlpErrorCode.FrameTooLarge or MlpErrorCode.BodyTooLarge => StatusCodes.Status413PayloadTooLarge,
        MlpErrorCode.RateLimited => StatusCodes.Status429TooManyRequests,
        MlpErrorCode.Redirect => StatusCodes.Status421MisdirectedRequest,
        MlpErrorCode.Overloaded or MlpErrorCode.ServerDraining => StatusCodes.Status503ServiceUnavailable,
        MlpErrorCode.UnsupportedVersion => StatusCodes.Status505HttpVersionNotsupported,
        MlpErrorCode.InternalError => StatusCodes.Status500InternalServerError,
        _ => StatusCodes.Status400BadRequest,
    };
}
