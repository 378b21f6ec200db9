using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text.Json;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Tests.Conformance.Harness;
using AccessLayer.Gateway.Tests.Governance;
using AccessLayer.Gateway.Tests.Security;
using AccessLayer.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;

namespace AccessLayer.Gateway.Tests.Transport;

/// <summary>
/// MQTT over TLS on the epoll engine (OpenSSL): session tickets shared by a fleet, ECDSA and RSA certificates at once,
/// hostile handshakes, a peer that writes one byte at a time. Real peers: Python's ssl (OpenSSL), openssl s_client, SslStream.
/// </summary>
public sealed class EpollTlsListenersTests
{
    private static readonly TimeSpan PeerTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task The_TLS_port_is_served_by_the_epoll_engine_and_speaks_MQTT()
    {
        using var pki = TestPki.Create();
        await using var gateway = await GovernedGateway.StartAsync(pki.Settings("None"));

        Assert.Equal(gateway.MqttTlsPort, gateway.Services.GetRequiredService<EpollTlsListeners>().MqttEndPoint?.Port);
        var result = await ResumeAsync(gateway.MqttTlsPort);
        Assert.Equal([false], result);
    }

    [Fact]
    public async Task A_second_node_with_the_same_ticket_keys_resumes_a_ticket_from_the_first_and_a_node_with_other_keys_does_not()
    {
        using var pki = TestPki.Create();
        var shared = Path.Combine(pki.Directory, "tickets");
        await File.WriteAllLinesAsync(shared, ["# fleet ticket keys, newest first", NewKey(), NewKey()]);
        var other = Path.Combine(pki.Directory, "other-tickets");
        await File.WriteAllLinesAsync(other, [NewKey()]);
        await using var first = await GovernedGateway.StartAsync([.. pki.Settings("None"), $"--Tls:TicketKeysPath={shared}"]);
        await using var second = await GovernedGateway.StartAsync([.. pki.Settings("None"), $"--Tls:TicketKeysPath={shared}"]);
        await using var stranger = await GovernedGateway.StartAsync([.. pki.Settings("None"), $"--Tls:TicketKeysPath={other}"]);

        // The ticket from the first node: resumed on the first again and on the second, a full handshake on the stranger.
        var reused = await ResumeAsync(first.MqttTlsPort, first.MqttTlsPort, second.MqttTlsPort, stranger.MqttTlsPort);

        Assert.Equal([false, true, true, false], reused);
    }

    [Fact]
    public async Task A_ticket_under_a_rotated_out_key_still_resumes_while_the_key_is_in_the_file()
    {
        using var pki = TestPki.Create();
        var keys = Path.Combine(pki.Directory, "tickets");
        var old = NewKey();
        await File.WriteAllLinesAsync(keys, [old]);
        await using var before = await GovernedGateway.StartAsync([.. pki.Settings("None"), $"--Tls:TicketKeysPath={keys}", "--SecurityReload:Watch=false"]);
        await File.WriteAllLinesAsync(keys, [NewKey(), old]);
        // A node started after the rotation: a new key encrypts, the old one still decrypts.
        await using var after = await GovernedGateway.StartAsync([.. pki.Settings("None"), $"--Tls:TicketKeysPath={keys}"]);

        var reused = await ResumeAsync(before.MqttTlsPort, after.MqttTlsPort);
        Assert.Equal([false, true], reused);
    }

    [Fact]
    public async Task A_reload_rotates_the_ticket_keys_old_tickets_resume_until_their_key_leaves_the_file()
    {
        using var pki = TestPki.Create();
        var keys = Path.Combine(pki.Directory, "tickets");
        var old = NewKey();
        await File.WriteAllLinesAsync(keys, [old]);
        await using var gateway = await GovernedGateway.StartAsync([.. pki.Settings("None"), $"--Tls:TicketKeysPath={keys}", "--SecurityReload:Watch=false"]);
        var reloader = gateway.Services.GetRequiredService<AccessLayer.Gateway.Security.SecurityReloader>();
        var gate = Path.Combine(pki.Directory, "gate");
        Directory.CreateDirectory(gate);
        var port = gateway.MqttTlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture);

        // Every connection offers the first connection's ticket (under the old key).
        using var peer = PeerProcess.Start(PeerPaths.Python, [PeerPaths.PythonTlsResume, "--gate", gate, port, port, port]);
        await GovernedGateway.WaitUntilAsync(() => File.Exists(Path.Combine(gate, "done-0")), "first connection");

        await File.WriteAllLinesAsync(keys, [NewKey(), old]);
        Assert.Equal("reloaded", (await reloader.ReloadAsync("test")).Tls.Status);
        await File.WriteAllTextAsync(Path.Combine(gate, "go-1"), string.Empty);
        await GovernedGateway.WaitUntilAsync(() => File.Exists(Path.Combine(gate, "done-1")), "second connection");

        await File.WriteAllLinesAsync(keys, [NewKey()]);
        Assert.Equal("reloaded", (await reloader.ReloadAsync("test")).Tls.Status);
        await File.WriteAllTextAsync(Path.Combine(gate, "go-2"), string.Empty);

        var result = await peer.WaitAsync(PeerTimeout);
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Stdout);
        bool[] reused = [.. json.RootElement.GetProperty("reused").EnumerateArray().Select(e => e.GetBoolean())];
        Assert.Equal([false, true, false], reused);
    }

    [Fact]
    public async Task Without_a_ticket_key_file_a_node_resumes_its_own_tickets()
    {
        using var pki = TestPki.Create();
        await using var gateway = await GovernedGateway.StartAsync(pki.Settings("None"));

        var reused = await ResumeAsync(gateway.MqttTlsPort, gateway.MqttTlsPort, gateway.MqttTlsPort);
        Assert.Equal([false, true, true], reused);
    }

    [Fact]
    public async Task Resumption_without_key_exchange_is_an_option_and_still_resumes()
    {
        using var pki = TestPki.Create();
        await using var gateway = await GovernedGateway.StartAsync([.. pki.Settings("None"), "--Tls:ResumeWithoutKeyExchange=true"]);

        var reused = await ResumeAsync(["--no-dhe"], gateway.MqttTlsPort, gateway.MqttTlsPort);
        Assert.Equal([false, true], reused);
    }

    [Fact]
    public async Task An_ECDSA_and_an_RSA_certificate_are_served_at_once_chosen_by_the_client_signature_algorithms()
    {
        using var ecdsa = TestPki.Create();
        using var rsa = TestPki.Create(rsa: true);
        await using var gateway = await GovernedGateway.StartAsync(
        [
            .. ecdsa.Settings("None"), $"--Tls:AlternateCertificatePath={rsa.ServerCertificatePath}", $"--Tls:AlternateKeyPath={rsa.ServerKeyPath}",
        ]);

        var preferred = await SClientAsync(gateway.MqttTlsPort);
        var rsaOnly = await SClientAsync(gateway.MqttTlsPort, "-sigalgs", "RSA-PSS+SHA256:RSA+SHA256");

        Assert.Contains("Server public key is 256 bit", preferred, StringComparison.Ordinal);
        Assert.Contains("Server public key is 2048 bit", rsaOnly, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("oversized record")]
    [InlineData("truncated hello")]
    [InlineData("plain MQTT")]
    public async Task A_hostile_or_broken_handshake_is_closed_and_gives_its_slot_back(string kind)
    {
        using var pki = TestPki.Create();
        await using var gateway = await GovernedGateway.StartAsync(pki.Settings("None"));
        var governor = gateway.Services.GetRequiredService<ConnectionGovernor>();

        byte[] bytes = kind switch
        {
            "garbage" => RandomNumberGenerator.GetBytes(4096),
            // A handshake record claiming 65,535 bytes (more than TLS allows), then more bytes than any record holds.
            "oversized record" => [0x16, 0x03, 0x03, 0xFF, 0xFF, .. new byte[64 * 1024]],
            // The start of a ClientHello, then the end of the stream.
            "truncated hello" => [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03, .. new byte[20]],
            _ => [0x10, 0x10, 0x00, 0x04, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x04, (byte)'p', (byte)'l', (byte)'a', (byte)'n'],
        };
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(IPAddress.Loopback, gateway.MqttTlsPort);
            try
            {
                await socket.SendAsync(bytes);
                if (kind == "truncated hello")
                {
                    socket.Shutdown(SocketShutdown.Send);
                }
            }
            catch (SocketException)
            {
                // The gateway may close while the oversized record is still being sent: that is the point.
            }

            Assert.True(await SocketClosing.ClosedAsync(socket), "the gateway should close the connection");
        }

        await GovernedGateway.WaitUntilAsync(() => governor.ActiveConnections == 0, "slot released");
        Assert.True(await TlsProbe.HandshakeAsync(gateway.MqttTlsPort, SslProtocols.Tls13, pki.Ca), "a good client still connects");
    }

    [Fact]
    public async Task Mutated_and_truncated_ClientHellos_all_end_in_a_close_and_the_listener_keeps_serving()
    {
        using var pki = TestPki.Create();
        await using var gateway = await GovernedGateway.StartAsync(pki.Settings("None"));
        var governor = gateway.Services.GetRequiredService<ConnectionGovernor>();
        var hello = await CaptureClientHelloAsync(pki);
        var random = new Random(1405);

        // 400 variants, 16 at a time: bytes flipped anywhere (record header, lengths, extensions) or the hello cut short.
        for (var round = 0; round < 25; round++)
        {
            var variants = ByteMutations.Variants(hello, random, 16);
            var closed = await Task.WhenAll(variants.Select(async bytes =>
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Loopback, gateway.MqttTlsPort);
                try
                {
                    await socket.SendAsync(bytes);
                    socket.Shutdown(SocketShutdown.Send);
                }
                catch (SocketException)
                {
                    // Closed by the gateway already.
                }

                return await SocketClosing.ClosedAsync(socket);
            }));
            Assert.All(closed, Assert.True);
        }

        await GovernedGateway.WaitUntilAsync(() => governor.ActiveConnections == 0, "every slot released");
        Assert.True(await TlsProbe.HandshakeAsync(gateway.MqttTlsPort, SslProtocols.Tls13, pki.Ca), "a good client still connects");
    }

    [Fact]
    public async Task A_client_writing_its_handshake_and_CONNECT_one_byte_at_a_time_connects()
    {
        using var pki = TestPki.Create();
        await using var gateway = await GovernedGateway.StartAsync(pki.Settings("None"));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, gateway.MqttTlsPort);
        await using var ssl = new SslStream(new ByteAtATimeStream(new NetworkStream(socket, ownsSocket: false)));
        await ssl.AuthenticateAsClientAsync(TrustingOnly(pki)).WaitAsync(PeerTimeout);

        await ssl.WriteAsync(TlsMqtt.Connect("bytewise"));
        Assert.Equal(TlsMqtt.ConnAckAccepted, await TlsMqtt.ReadExactlyAsync(ssl, 4));
        Assert.True(gateway.Broker.TryGetClient("bytewise", out var connection));
        Assert.Equal("tls", connection.Listener);
    }

    [Fact]
    public async Task Several_records_arriving_in_one_segment_are_all_read()
    {
        using var pki = TestPki.Create();
        await using var gateway = await GovernedGateway.StartAsync(pki.Settings("None"));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, gateway.MqttTlsPort);
        var held = new HeldWritesStream(new NetworkStream(socket, ownsSocket: false));
        await using var ssl = new SslStream(held);
        await ssl.AuthenticateAsClientAsync(TrustingOnly(pki)).WaitAsync(PeerTimeout);

        // CONNECT and SUBSCRIBE as two records in one write: OpenSSL hands them out one record per SSL_read, and the
        // edge-triggered socket raises no new edge for the second, so the reader must drain until OpenSSL wants more.
        held.Hold = true;
        await ssl.WriteAsync(TlsMqtt.Connect("coalesced"));
        await ssl.WriteAsync(TlsMqtt.Subscribe("t"));
        await held.ReleaseAsync();

        Assert.Equal(TlsMqtt.ConnAckAccepted, await TlsMqtt.ReadExactlyAsync(ssl, 4));
        Assert.Equal([0x90, 0x03, 0x00, 0x01, 0x00], await TlsMqtt.ReadExactlyAsync(ssl, 5));
    }

    private static SslClientAuthenticationOptions TrustingOnly(TestPki pki) => new()
    {
        TargetHost = "localhost",
        EnabledSslProtocols = SslProtocols.Tls13,
        CertificateChainPolicy = new System.Security.Cryptography.X509Certificates.X509ChainPolicy
        {
            TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust,
            CustomTrustStore = { pki.Ca },
            RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
        },
    };

    /// <summary>The first TLS record a real SslStream client sends (its ClientHello), read by a bare listener.</summary>
    private static async Task<byte[]> CaptureClientHelloAsync(TestPki pki)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var accepted = await listener.AcceptSocketAsync();
        var ssl = new SslStream(client.GetStream());
        var handshake = ssl.AuthenticateAsClientAsync(TrustingOnly(pki));
        var header = new byte[5];
        await ReceiveExactlyAsync(accepted, header);
        var body = new byte[(header[3] << 8) | header[4]];
        await ReceiveExactlyAsync(accepted, body);
        client.Close();
        await Assert.ThrowsAnyAsync<Exception>(() => handshake);
        return [.. header, .. body];
    }

    private static async Task ReceiveExactlyAsync(Socket socket, byte[] buffer)
    {
        for (var read = 0; read < buffer.Length;)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None);
            Assert.True(n > 0, "the client closed before its ClientHello");
            read += n;
        }
    }

    internal static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(80));

    private static Task<bool[]> ResumeAsync(params int[] ports) => ResumeAsync([], ports);

    private static async Task<bool[]> ResumeAsync(string[] options, params int[] ports)
    {
        var result = await PeerProcess.RunAsync(PeerPaths.Python, [PeerPaths.PythonTlsResume, .. options, .. ports.Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture))], PeerTimeout);
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Stdout);
        return [.. json.RootElement.GetProperty("reused").EnumerateArray().Select(e => e.GetBoolean())];
    }

    private static async Task<string> SClientAsync(int port, params string[] extra)
    {
        var result = await PeerProcess.RunAsync("openssl", ["s_client", "-connect", $"127.0.0.1:{port}", "-brief", .. extra], PeerTimeout);
        var all = result.Stdout + result.Stderr;
        if (!all.Contains("public key", StringComparison.Ordinal))
        {
            // -brief does not print the key size on every build: ask for the full output.
            result = await PeerProcess.RunAsync("openssl", ["s_client", "-connect", $"127.0.0.1:{port}", .. extra], PeerTimeout);
            all = result.Stdout + result.Stderr;
        }

        return all;
    }

}
