using System.Security.Cryptography;
using System.Text;
using AccessLayer.Gateway.Hosting;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>Decides whether a CONNECT's credentials are accepted. Replace the registration to plug in another source.</summary>
public interface IMqttAuthenticator
{
    ValueTask<MqttAuthenticationResult> AuthenticateAsync(MqttAuthenticationContext context, CancellationToken cancellationToken);
}

public readonly record struct MqttAuthenticationContext(string ClientId, string? UserName, ReadOnlyMemory<byte> Password, System.Net.EndPoint? RemoteEndPoint);

public enum MqttAuthenticationResult
{
    Allowed,
    BadUserNameOrPassword,
    NotAuthorized,
}

/// <summary>The default: anyone when no users are configured, otherwise the static user table of <c>Mqtt:Users</c>.</summary>
internal sealed class StaticUserAuthenticator(IOptionsMonitor<MqttOptions> options) : IMqttAuthenticator
{
    public ValueTask<MqttAuthenticationResult> AuthenticateAsync(MqttAuthenticationContext context, CancellationToken cancellationToken)
    {
        var current = options.CurrentValue;
        if (current.Users.Count == 0)
        {
            return ValueTask.FromResult(MqttAuthenticationResult.Allowed);
        }

        if (context.UserName is null)
        {
            return ValueTask.FromResult(current.AllowAnonymous ? MqttAuthenticationResult.Allowed : MqttAuthenticationResult.NotAuthorized);
        }

        if (!current.Users.TryGetValue(context.UserName, out var expected))
        {
            return ValueTask.FromResult(MqttAuthenticationResult.BadUserNameOrPassword);
        }

        var expectedBytes = Encoding.UTF8.GetBytes(expected);
        var ok = CryptographicOperations.FixedTimeEquals(expectedBytes, context.Password.Span);
        return ValueTask.FromResult(ok ? MqttAuthenticationResult.Allowed : MqttAuthenticationResult.BadUserNameOrPassword);
    }
}
