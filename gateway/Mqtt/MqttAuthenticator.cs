using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>Decides whether a CONNECT's credentials are accepted and who the client is. Replace the registration to plug in another source.</summary>
public interface IMqttAuthenticator
{
    ValueTask<MqttAuthenticationDecision> AuthenticateAsync(MqttAuthenticationContext context, CancellationToken cancellationToken);
}

/// <summary>What a CONNECT presents: its credentials, and the transport's (a validated TLS client certificate, the listener name).</summary>
public readonly record struct MqttAuthenticationContext(
    string ClientId,
    string? UserName,
    ReadOnlyMemory<byte> Password,
    EndPoint? RemoteEndPoint,
    X509Certificate2? ClientCertificate = null,
    string? Listener = null);

public enum MqttAuthenticationResult
{
    Allowed,
    BadUserNameOrPassword,
    NotAuthorized,
}

/// <summary>
/// The outcome of authentication. <see cref="Identity"/> is who the client is for
/// authorization (ACL <c>%u</c>); <see cref="ClientId"/>, when set, replaces the CONNECT's
/// client id (a certificate that names its device); <see cref="Method"/> names the provider.
/// </summary>
public readonly record struct MqttAuthenticationDecision(MqttAuthenticationResult Result, string? Identity = null, string? Method = null, string? ClientId = null)
{
    /// <summary>The <see cref="Method"/> of a gateway that checks no credentials: its <see cref="Identity"/> is only what the client claims, so it owns nothing.</summary>
    public const string UncheckedMethod = "none";

    public bool IsAllowed => Result == MqttAuthenticationResult.Allowed;

    /// <summary>The identity that owns the client's session: null when anonymous or when no credentials were checked.</summary>
    public string? SessionOwner => Method == UncheckedMethod ? null : Identity;

    public static MqttAuthenticationDecision Refused(MqttAuthenticationResult result) => new(result);
}
