namespace AccessLayer.Gateway.Management;

/// <summary>Management surface log events (12xx); ids are stable.</summary>
internal static partial class ManagementLog
{
    [LoggerMessage(1201, LogLevel.Information, "Management surface on {Address}:{Port}: push, admin, drain, bans, dictionary reload (bearer token), /metrics, /healthz, /readyz")]
    public static partial void Listening(ILogger logger, string address, int port);

    [LoggerMessage(1202, LogLevel.Warning, "No management token is set: push, admin, drain, bans and dictionary reload answer 403. Set Management:Token (env Management__Token) or Management:TokenFile to use them")]
    public static partial void NoToken(ILogger logger);

    [LoggerMessage(1203, LogLevel.Warning, "Management request {Method} {Path} from {RemoteAddress} refused: {Reason}")]
    public static partial void Refused(ILogger logger, string method, string path, string? remoteAddress, string reason);
}
