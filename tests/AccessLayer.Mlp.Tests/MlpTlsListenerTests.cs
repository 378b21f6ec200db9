using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Tests.Shared;
using AccessLayer.Protocol.Mlp;
using Microsoft.Extensions.DependencyInjection;

namespace AccessLayer.Mlp.Tests;

/// <summary>MLP over TLS (<c>Mlp:TlsPort</c>) on the epoll engine through OpenSSL, with a real SslStream client.</summary>
public sealed class MlpTlsListenerTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "al-mlp-tls-" + Guid.NewGuid().ToString("N"));
    private readonly X509Certificate2 _certificate;

    public MlpTlsListenerTests()
    {
        Directory.CreateDirectory(_directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(CertificatePath, _certificate.ExportCertificatePem());
        File.WriteAllText(KeyPath, key.ExportPkcs8PrivateKeyPem());
    }

    private string CertificatePath => Path.Combine(_directory, "server.pem");

    private string KeyPath => Path.Combine(_directory, "server.key");

    [Fact]
    public async Task A_device_says_HELLO_over_TLS_and_is_welcomed()
    {
        var tlsPort = FreePorts.Next();
        await using var gateway = await MlpTestGateway.StartAsync(
        [
            $"--Tls:CertificatePath={CertificatePath}", $"--Tls:KeyPath={KeyPath}", $"--Mlp:TlsPort={tlsPort}", "--Mqtt:TlsPort=0", "--Http:TlsPort=0",
        ]);
        Assert.Equal(tlsPort, gateway.Services.GetRequiredService<EpollTlsListeners>().MlpEndPoint?.Port);

        await using var raw = await RawMlpConnection.OpenTlsAsync(tlsPort, _certificate);
        var welcome = await raw.HandshakeAsync("tls-device", gateway.TokenFor("tls-device"));

        Assert.False(string.IsNullOrEmpty(welcome.SessionId));
        await gateway.WaitForConnectionsAsync(1);
    }

    [Fact]
    public async Task With_the_Kestrel_engine_MLP_over_TLS_is_served_by_SslStream()
    {
        var tlsPort = FreePorts.Next();
        await using var gateway = await MlpTestGateway.StartAsync(
        [
            $"--Tls:CertificatePath={CertificatePath}", $"--Tls:KeyPath={KeyPath}", $"--Mlp:TlsPort={tlsPort}", "--Mqtt:TlsPort=0", "--Http:TlsPort=0",
            "--Transport:Engine=Kestrel",
        ]);

        await using var raw = await RawMlpConnection.OpenTlsAsync(tlsPort, _certificate);
        var welcome = await raw.HandshakeAsync("kestrel-tls-device", gateway.TokenFor("kestrel-tls-device"));

        Assert.False(string.IsNullOrEmpty(welcome.SessionId));
    }

    [Fact]
    public async Task A_bad_frame_over_TLS_gets_its_GOAWAY_through_TLS_and_the_close()
    {
        var tlsPort = FreePorts.Next();
        await using var gateway = await MlpTestGateway.StartAsync(
        [
            $"--Tls:CertificatePath={CertificatePath}", $"--Tls:KeyPath={KeyPath}", $"--Mlp:TlsPort={tlsPort}", "--Mqtt:TlsPort=0", "--Http:TlsPort=0",
        ]);

        await using var raw = await RawMlpConnection.OpenTlsAsync(tlsPort, _certificate);
        await raw.SendAsync(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF });

        var frame = await raw.TryReceiveAsync();
        Assert.True(frame is null || frame.Type == MlpFrameType.GoAway, $"got {frame?.Type}");
        Assert.True(await raw.WaitForCloseAsync());
    }

    public void Dispose()
    {
        _certificate.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
