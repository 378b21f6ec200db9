using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Mlp.Tests;

/// <summary>
/// TLS 1.3 0-RTT early data on the MLP TLS listener (<c>Tls:MaxEarlyData</c>), with a real early-data client:
/// openssl s_client resumes a session and sends HELLO and two REQUESTs as early data. The IDEMPOTENT one is served
/// at once, the other waits for the handshake to complete; a replayed ticket gets no early data; mutated early-data
/// flights end in a close; off by default.
/// </summary>
public sealed class MlpTlsEarlyDataTests : IDisposable
{
    private static readonly TimeSpan PeerTimeout = TimeSpan.FromSeconds(20);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "al-mlp-0rtt-" + Guid.NewGuid().ToString("N"));

    public MlpTlsEarlyDataTests()
    {
        Directory.CreateDirectory(_directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(Path.Combine(_directory, "server.pem"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_directory, "server.key"), key.ExportPkcs8PrivateKeyPem());
    }

    [Fact]
    public async Task An_idempotent_request_in_early_data_is_served_at_once_and_another_waits_for_the_handshake_to_complete()
    {
        var (gateway, port) = await StartAsync("--Tls:MaxEarlyData=16384");
        await using var _ = gateway;
        var session = await FirstSessionAsync(gateway, port, "zero-rtt-device");

        var resumed = await SClientAsync(port, EarlyFlight(gateway, "zero-rtt-device"), GoAway(), "-sess_in", session);

        Assert.Contains("Reused, TLSv1.3", resumed, StringComparison.Ordinal);
        Assert.Contains("Early data was accepted", resumed, StringComparison.Ordinal);
        // Both answered (the echo returns each body), one from early data, one after the client's Finished.
        Assert.Contains("idempotent-answer", resumed, StringComparison.Ordinal);
        Assert.Contains("deferred-answer", resumed, StringComparison.Ordinal);
        var metrics = await MetricsAsync(gateway);
        Assert.Equal(1, EarlyDataRequests(metrics, "served"));
        Assert.Equal(1, EarlyDataRequests(metrics, "deferred"));
    }

    [Fact]
    public async Task A_replayed_ticket_gets_no_early_data_the_second_time()
    {
        var (gateway, port) = await StartAsync("--Tls:MaxEarlyData=16384");
        await using var _ = gateway;
        var session = await FirstSessionAsync(gateway, port, "replayed-device");
        var early = EarlyFlight(gateway, "replayed-device");

        var first = await SClientAsync(port, early, GoAway(), "-sess_in", session);
        // The same ticket and the same early data again, as an attacker who recorded them would send them.
        var replay = await SClientAsync(port, early, Hello(gateway, "replayed-device").Concat(GoAway()).ToArray(), "-sess_in", session);

        Assert.Contains("Early data was accepted", first, StringComparison.Ordinal);
        Assert.Contains("Early data was rejected", replay, StringComparison.Ordinal);
        var metrics = await MetricsAsync(gateway);
        Assert.Equal(1, EarlyDataRequests(metrics, "served"));
        Assert.Equal(1, EarlyDataRequests(metrics, "deferred"));
    }

    [Fact]
    public async Task Without_the_option_tickets_allow_no_early_data()
    {
        var (gateway, port) = await StartAsync();
        await using var _ = gateway;
        var session = await FirstSessionAsync(gateway, port, "no-0rtt-device");

        var resumed = await SClientAsync(port, EarlyFlight(gateway, "no-0rtt-device"), GoAway(), "-sess_in", session);

        Assert.Contains("Reused, TLSv1.3", resumed, StringComparison.Ordinal);
        Assert.Contains("Early data was not sent", resumed, StringComparison.Ordinal);
        Assert.Equal(0, EarlyDataRequests(await MetricsAsync(gateway), "served"));
    }

    [Fact]
    public async Task Mutated_and_truncated_early_data_flights_all_end_in_a_close_and_the_listener_keeps_serving()
    {
        var (gateway, port) = await StartAsync("--Tls:MaxEarlyData=16384");
        await using var _ = gateway;
        var session = await FirstSessionAsync(gateway, port, "mutated-device");
        var flight = await CaptureEarlyFlightAsync(session, EarlyFlight(gateway, "mutated-device"));
        var random = new Random(1414);

        // 160 variants, 16 at a time, into the SSL_read_early_data path: bytes flipped anywhere (ClientHello, binder,
        // early data records) or the flight cut short.
        for (var round = 0; round < 10; round++)
        {
            var variants = ByteMutations.Variants(flight, random, 16);
            var closed = await Task.WhenAll(variants.Select(async bytes =>
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Loopback, port);
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

        // The listener still serves a full handshake and HELLO.
        await FirstSessionAsync(gateway, port, "after-mutations");
    }

    /// <summary>What s_client sends first when it resumes with early data (ClientHello and early data records), read by a bare listener.</summary>
    private async Task<byte[]> CaptureEarlyFlightAsync(string session, byte[] early)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var capturePort = ((IPEndPoint)listener.LocalEndpoint).Port;
        var client = SClientAsync(capturePort, early, [], "-sess_in", session);
        using var accepted = await listener.AcceptSocketAsync();
        var flight = new MemoryStream();
        var buffer = new byte[16 * 1024];
        using var quiet = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            // Until s_client waits for a ServerHello that never comes.
            int n;
            while ((n = await accepted.ReceiveAsync(buffer, SocketFlags.None, quiet.Token)) > 0)
                flight.Write(buffer, 0, n);
        }
        catch (OperationCanceledException)
        {
        }

        accepted.Close();
        await client;
        Assert.True(flight.Length > early.Length, $"captured {flight.Length} bytes");
        return flight.ToArray();
    }

    private async Task<(MlpTestGateway Gateway, int Port)> StartAsync(params string[] extra)
    {
        var port = FreePorts.Next();
        var gateway = await MlpTestGateway.StartAsync(
        [
            $"--Tls:CertificatePath={Path.Combine(_directory, "server.pem")}", $"--Tls:KeyPath={Path.Combine(_directory, "server.key")}",
            $"--Mlp:TlsPort={port}", "--Mqtt:TlsPort=0", "--Http:TlsPort=0", .. extra,
        ]);
        return (gateway, port);
    }

    /// <summary>A full handshake with HELLO and GOAWAY; the session (with its ticket) saved for the next connection.</summary>
    private async Task<string> FirstSessionAsync(MlpTestGateway gateway, int port, string deviceId)
    {
        var session = Path.Combine(_directory, deviceId + ".session");
        var output = await SClientAsync(port, null, Hello(gateway, deviceId).Concat(GoAway()).ToArray(), "-sess_out", session);
        Assert.Contains("New, TLSv1.3", output, StringComparison.Ordinal);
        Assert.True(File.Exists(session), output);
        return session;
    }

    /// <summary>HELLO, an IDEMPOTENT echo and a plain echo: what a returning phone sends in its first flight.</summary>
    private static byte[] EarlyFlight(MlpTestGateway gateway, string deviceId)
    {
        var encoder = new HpackEncoder();
        var buffer = new ArrayBufferWriter<byte>();
        MlpFrameWriter.WriteHello(buffer, RawMlpConnection.Hello(deviceId, gateway.TokenFor(deviceId)));
        Request(buffer, encoder, 1, MlpFrameFlags.Idempotent, "idempotent-answer");
        Request(buffer, encoder, 3, MlpFrameFlags.None, "deferred-answer");
        return buffer.WrittenSpan.ToArray();
    }

    private static void Request(ArrayBufferWriter<byte> buffer, HpackEncoder encoder, uint streamId, MlpFrameFlags flags, string body)
    {
        var block = new ArrayBufferWriter<byte>();
        encoder.Encode([new HeaderField(":service", "echo"), new HeaderField(":operation", "op")], block);
        MlpFrameWriter.WriteRequest(buffer, streamId, flags, block.WrittenSpan, Encoding.ASCII.GetBytes(body));
    }

    private static byte[] Hello(MlpTestGateway gateway, string deviceId)
    {
        var buffer = new ArrayBufferWriter<byte>();
        MlpFrameWriter.WriteHello(buffer, RawMlpConnection.Hello(deviceId, gateway.TokenFor(deviceId)));
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The client's GOAWAY: the gateway closes once everything is answered, which ends s_client.</summary>
    private static byte[] GoAway()
    {
        var buffer = new ArrayBufferWriter<byte>();
        MlpFrameWriter.WriteGoAway(buffer, new GoAway { Message = "done" });
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// openssl s_client: <paramref name="early"/> as early data (with -sess_in), then <paramref name="stdin"/> after the
    /// handshake; waits for the gateway to close. Returns stdout and stderr (text and the frames received, as bytes).
    /// </summary>
    private async Task<string> SClientAsync(int port, byte[]? early, byte[] stdin, params string[] extra)
    {
        var start = new ProcessStartInfo("openssl")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["s_client", "-connect", $"127.0.0.1:{port}", "-ign_eof", "-nocommands", .. extra])
            start.ArgumentList.Add(argument);
        if (early is not null)
        {
            var file = Path.Combine(_directory, "early-" + Guid.NewGuid().ToString("N"));
            await File.WriteAllBytesAsync(file, early);
            start.ArgumentList.Add("-early_data");
            start.ArgumentList.Add(file);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start openssl");
        var output = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(output);
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.BaseStream.WriteAsync(stdin);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(PeerTimeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        await copy;
        return Encoding.Latin1.GetString(output.ToArray()) + await stderr;
    }

    private static async Task<string> MetricsAsync(MlpTestGateway gateway)
    {
        using var http = new HttpClient { BaseAddress = gateway.ManagementBase };
        return await http.GetStringAsync("metrics");
    }

    private static int EarlyDataRequests(string metrics, string outcome)
    {
        var match = Regex.Match(metrics, "accesslayer_mlp_early_data_requests_total\\{[^}]*outcome=\"" + outcome + "\"[^}]*\\} (\\d+)");
        return match.Success ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
