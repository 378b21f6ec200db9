using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AccessLayer.Gateway.Tests.Security;

/// <summary>
/// A throwaway PKI in a temp directory, as PEM files a real client reads: a CA, a server
/// certificate for 127.0.0.1/localhost, a device certificate the CA signed, and a device
/// certificate from a rogue CA the gateway does not trust. ECDSA P-256 (RSA 2048 on request).
/// </summary>
internal sealed class TestPki : IDisposable
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    private TestPki(string directory) => Directory = directory;

    public string Directory { get; }

    public string CaPath => Path.Combine(Directory, "ca.pem");

    public string ServerCertificatePath => Path.Combine(Directory, "server.pem");

    public string ServerKeyPath => Path.Combine(Directory, "server.key");

    public string ClientCertificatePath => Path.Combine(Directory, "client.pem");

    public string ClientKeyPath => Path.Combine(Directory, "client.key");

    public string RogueClientCertificatePath => Path.Combine(Directory, "rogue-client.pem");

    public string RogueClientKeyPath => Path.Combine(Directory, "rogue-client.key");

    public const string ClientCommonName = "device-1";

    public X509Certificate2 Ca { get; private set; } = null!;

    /// <summary>The client certificate with its key, for .NET clients.</summary>
    public X509Certificate2 Client { get; private set; } = null!;

    /// <summary>Gateway settings for a TLS listener with this PKI and the given client-certificate mode.</summary>
    public string[] Settings(string clientCertificateMode = "Require") =>
    [
        $"--Tls:CertificatePath={ServerCertificatePath}",
        $"--Tls:KeyPath={ServerKeyPath}",
        $"--Tls:ClientCaPath={CaPath}",
        $"--Tls:ClientCertificateMode={clientCertificateMode}",
    ];

    public static TestPki Create(bool rsa = false)
    {
        var directory = Path.Combine(Path.GetTempPath(), "al-pki-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var pki = new TestPki(directory);
        pki.Generate(rsa);
        return pki;
    }

    private void Generate(bool rsa)
    {
        var now = DateTimeOffset.UtcNow.AddMinutes(-5);
        using var caKey = NewKey(rsa);
        var caRequest = NewRequest("CN=AccessLayer Test CA", caKey);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        Ca = caRequest.CreateSelfSigned(now, now.AddDays(2));
        File.WriteAllText(CaPath, Ca.ExportCertificatePem());

        using var serverKey = NewKey(rsa);
        var serverRequest = NewRequest("CN=localhost", serverKey);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        serverRequest.CertificateExtensions.Add(san.Build());
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuth], false));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        WriteSigned(serverRequest, Ca, serverKey, now, ServerCertificatePath, ServerKeyPath);

        using var clientKey = NewKey(rsa);
        Client = WriteSigned(ClientRequest(clientKey), Ca, clientKey, now, ClientCertificatePath, ClientKeyPath);

        // Same subject, different issuer: only the chain tells them apart.
        using var rogueCaKey = NewKey(rsa);
        var rogueRequest = NewRequest("CN=AccessLayer Test CA", rogueCaKey);
        rogueRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rogueRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var rogueCa = rogueRequest.CreateSelfSigned(now, now.AddDays(2));
        using var rogueKey = NewKey(rsa);
        using var rogue = WriteSigned(ClientRequest(rogueKey), rogueCa, rogueKey, now, RogueClientCertificatePath, RogueClientKeyPath);
    }

    private static CertificateRequest ClientRequest(AsymmetricAlgorithm key)
    {
        var request = NewRequest($"CN={ClientCommonName}, O=AccessLayer Devices", key);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ClientAuth], false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        return request;
    }

    private static AsymmetricAlgorithm NewKey(bool rsa) => rsa ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private static CertificateRequest NewRequest(string subject, AsymmetricAlgorithm key) => key switch
    {
        RSA r => new CertificateRequest(subject, r, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        ECDsa e => new CertificateRequest(subject, e, HashAlgorithmName.SHA256),
        _ => throw new ArgumentException("unsupported key", nameof(key)),
    };

    private static X509Certificate2 WriteSigned(CertificateRequest request, X509Certificate2 issuer, AsymmetricAlgorithm key, DateTimeOffset now, string certificatePath, string keyPath)
    {
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using var certificate = request.Create(issuer, now, now.AddDays(1), serial);
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        var pkcs8 = key.ExportPkcs8PrivateKeyPem();
        File.WriteAllText(keyPath, pkcs8);
        return key switch
        {
            RSA r => certificate.CopyWithPrivateKey(r),
            ECDsa e => certificate.CopyWithPrivateKey(e),
            _ => throw new ArgumentException("unsupported key", nameof(key)),
        };
    }

    public void Dispose()
    {
        Ca?.Dispose();
        Client?.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
