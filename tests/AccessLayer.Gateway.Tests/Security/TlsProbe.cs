using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace AccessLayer.Gateway.Tests.Security;

/// <summary>A .NET TLS client for what the command-line clients cannot pin (one exact TLS version), validating the server against the test CA.</summary>
internal static class TlsProbe
{
    public static async Task<SslStream> ConnectAsync(int port, SslProtocols protocols, X509Certificate2 ca, X509Certificate2? clientCertificate = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        try
        {
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                EnabledSslProtocols = protocols,
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
                CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, CustomTrustStore = { ca }, RevocationMode = X509RevocationMode.NoCheck },
            }).WaitAsync(TimeSpan.FromSeconds(10));
            return ssl;
        }
        catch
        {
            await ssl.DisposeAsync();
            throw;
        }
    }

    /// <summary>True when a handshake with exactly <paramref name="protocols"/> succeeds.</summary>
    public static async Task<bool> HandshakeAsync(int port, SslProtocols protocols, X509Certificate2 ca)
    {
        try
        {
            await using var ssl = await ConnectAsync(port, protocols, ca);
            return ssl.SslProtocol == protocols;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            return false;
        }
    }
}
