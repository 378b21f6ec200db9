using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using AccessLayer.Gateway.Tests.Governance;
using AccessLayer.Gateway.Tests.Security;
using AccessLayer.Gateway.Transport.Tls;

namespace AccessLayer.Gateway.Tests.Transport;

/// <summary>
/// What one OpenSSL session puts on the wire: dynamic record sizes, read from the TLS record headers a real SslStream
/// client receives through the epoll TLS listener.
/// </summary>
public sealed class TlsSessionTests
{
    private const int Payload = 150 * 1024;

    // TLS 1.3 adds the inner content type (1 byte) and the AEAD tag (16 bytes) to each record's plaintext.
    private const int SmallRecordOnWire = TlsSession.SmallRecord + 17;

    [Fact]
    public async Task Records_start_at_one_segment_grow_to_16_KB_once_the_burst_is_hot_and_start_small_again_after_idle()
    {
        using var pki = TestPki.Create();
        await using var gateway = await GovernedGateway.StartAsync(pki.Settings("None"));
        await using var subscriber = await SubscribeAsync(gateway, pki.Ca);

        var first = await BurstAsync(gateway, subscriber);
        Assert.All(first.Take(10), length => Assert.True(length <= SmallRecordOnWire, $"early record of {length} B"));
        Assert.True(first.Contains(TlsSession.LargeRecord + 17), string.Join(",", first));

        // Still hot a moment later: full-size records from the start.
        await gateway.AdvanceAsync(TimeSpan.FromMilliseconds(100));
        var hot = await BurstAsync(gateway, subscriber);
        Assert.True(hot[0] > SmallRecordOnWire, $"a hot flow's first record was {hot[0]} B");

        // Idle past a second: the congestion window may be gone, small records again.
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(2));
        var again = await BurstAsync(gateway, subscriber);
        Assert.All(again.Take(10), length => Assert.True(length <= SmallRecordOnWire, $"record after idle of {length} B"));
    }

    [Fact]
    public async Task With_dynamic_record_size_off_a_burst_starts_with_full_size_records()
    {
        using var pki = TestPki.Create();
        await using var gateway = await GovernedGateway.StartAsync([.. pki.Settings("None"), "--Tls:DynamicRecordSize=false"]);
        await using var subscriber = await SubscribeAsync(gateway, pki.Ca);

        var records = await BurstAsync(gateway, subscriber);

        Assert.True(records[0] > SmallRecordOnWire, $"first record was {records[0]} B");
        Assert.Contains(records, length => length == TlsSession.LargeRecord + 17);
    }

    private static async Task<Subscriber> SubscribeAsync(GovernedGateway gateway, X509Certificate2 ca)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, gateway.MqttTlsPort);
        var sniffer = new RecordSniffingStream(new NetworkStream(socket, ownsSocket: true));
        var ssl = new SslStream(sniffer);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            EnabledSslProtocols = SslProtocols.Tls13,
            CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, CustomTrustStore = { ca }, RevocationMode = X509RevocationMode.NoCheck },
        });
        await ssl.WriteAsync(TlsMqtt.Connect("records"));
        Assert.Equal(TlsMqtt.ConnAckAccepted, await TlsMqtt.ReadExactlyAsync(ssl, 4));
        await ssl.WriteAsync(TlsMqtt.Subscribe("big"));
        Assert.Equal([0x90, 0x03, 0x00, 0x01, 0x00], await TlsMqtt.ReadExactlyAsync(ssl, 5));
        return new Subscriber(ssl, sniffer);
    }

    /// <summary>Publishes <see cref="Payload"/> bytes on the plain port; the record lengths the subscriber received for it.</summary>
    private static async Task<List<int>> BurstAsync(GovernedGateway gateway, Subscriber subscriber)
    {
        int mark;
        lock (subscriber.Sniffer.Records)
        {
            mark = subscriber.Sniffer.Records.Count;
        }

        await using (var publisher = await gateway.ConnectClientAsync())
        {
            await publisher.ConnectAsync("publisher-" + mark);
            await publisher.PublishAsync("big", new string('x', Payload));
        }

        // PUBLISH: fixed header (1 + 3 length bytes), topic (2 + 3), payload.
        await TlsMqtt.ReadExactlyAsync(subscriber.Ssl, 1 + 3 + 2 + 3 + Payload);
        lock (subscriber.Sniffer.Records)
        {
            return subscriber.Sniffer.Records[mark..];
        }
    }

    private sealed record Subscriber(SslStream Ssl, RecordSniffingStream Sniffer) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Ssl.DisposeAsync();
    }
}
