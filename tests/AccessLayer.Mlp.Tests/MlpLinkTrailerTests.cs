using AccessLayer.Client;
using AccessLayer.Mlp.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace AccessLayer.Mlp.Tests;

/// <summary>
/// Tail-loss trailers (<c>MlpLinkTrailer</c>, docs/sdk.md "Tail-loss trailers"): on a path whose calls wait for TCP
/// retransmissions, an empty PING follows a request that is still the last frame on its link, so a lost tail segment is
/// repaired by selective acknowledgement; against the real gateway, on a fake clock, counting the bytes on the wire.
/// </summary>
public sealed class MlpLinkTrailerTests
{
    /// <summary>An empty PING or PONG frame: its type byte and a zero length.</summary>
    private const long EmptyPingFrame = 2;

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    // A 400 ms path losing 10 % each way: about one call in five waits for a retransmission (as in MlpHedgerTests).
    private static readonly double[] Lossy = [410, 405, 1020, 415, 400, 420, 1610, 405, 410, 1000, 412, 408, 1240, 401, 409, 411, 403, 417, 406, 404];

    private static async Task<(MlpTestGateway Gateway, MlpClient Client, FakeTimeProvider Time)> StartAsync(string deviceId, bool lossy, bool trailers = true)
    {
        var gateway = await MlpTestGateway.StartAsync();
        var time = FakeClock.New();
        var options = gateway.ClientOptions(deviceId, time: time);
        // No hedging (no fallback, no secondary link): only the trailer can add frames here.
        options.HttpFallbackEndpoint = null;
        options.WeakNetwork = new MlpWeakNetworkOptions { HedgeLink = false, TailLossTrailers = trailers };
        var client = new MlpClient(options);
        await client.ConnectAsync();
        if (lossy)
        {
            foreach (var ms in Lossy)
                client.Router.CallLatency.Add(Ms(ms));
        }

        return (gateway, client, time);
    }

    private static Task<MlpResponse> Call(MlpClient client, string operation) =>
        client.CallAsync("echo", operation, "x"u8.ToArray(), new MlpCallOptions { Idempotent = true });

    [Fact]
    public async Task On_a_lossy_path_a_request_is_followed_by_an_empty_PING_after_the_trailer_delay_and_the_gateway_answers_it()
    {
        var (gateway, client, time) = await StartAsync("dev-trailer", lossy: true);
        await using var _ = gateway;
        await using var __ = client;
        Assert.Equal(200, (await Call(client, "first")).Status);
        var sent = client.BytesSent;
        var received = client.BytesReceived;

        time.Advance(Ms(24));
        await Task.Delay(100);
        Assert.Equal(sent, client.BytesSent);

        time.Advance(Ms(1));
        await Eventually.TrueAsync(() => client.BytesReceived == received + EmptyPingFrame, "the gateway answers the trailer with an empty PONG");
        Assert.Equal(sent + EmptyPingFrame, client.BytesSent);
        Assert.Equal(1, client.TrailersSent);
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task On_a_path_that_is_not_good_and_not_known_yet_a_request_is_followed_by_a_trailer_and_not_once_eight_calls_lost_nothing()
    {
        var (gateway, client, time) = await StartAsync("dev-trailer-cold", lossy: false);
        await using var _ = gateway;
        await using var __ = client;
        // Round trips of about 400 ms (SRTT 372 ms): not Good; no call answered yet, so the path is not known.
        for (var i = 0; i < 20; i++)
            client.Rtt.AddSample(Ms(400));
        Assert.Equal(200, (await Call(client, "first")).Status);
        var sent = client.BytesSent;
        time.Advance(Ms(25));
        await Eventually.TrueAsync(() => client.TrailersSent == 1, "a trailer follows the request");
        await Eventually.TrueAsync(() => client.BytesSent == sent + EmptyPingFrame, "the trailer is on the wire");

        // Eight calls that lost nothing: the path is known and not lossy; no trailer any more.
        for (var i = 0; i < 8; i++)
            client.Router.CallLatency.Add(Ms(405));
        Assert.Equal(200, (await Call(client, "second")).Status);
        time.Advance(Ms(50));
        await Task.Delay(100);
        Assert.Equal(1, client.TrailersSent);
    }

    [Fact]
    public async Task On_a_clean_path_no_trailer_follows_a_request()
    {
        var (gateway, client, time) = await StartAsync("dev-no-trailer", lossy: false);
        await using var _ = gateway;
        await using var __ = client;
        Assert.Equal(200, (await Call(client, "first")).Status);
        var sent = client.BytesSent;

        for (var i = 0; i < 10; i++)
        {
            time.Advance(Ms(10));
            await Task.Delay(10);
        }

        await Task.Delay(100);
        Assert.Equal(sent, client.BytesSent);
        Assert.Equal(0, client.TrailersSent);
    }

    [Fact]
    public async Task A_request_followed_by_another_within_the_delay_gets_no_trailer_of_its_own()
    {
        var (gateway, client, time) = await StartAsync("dev-trailed", lossy: true);
        await using var _ = gateway;
        await using var __ = client;
        Assert.Equal(200, (await Call(client, "first")).Status);
        time.Advance(Ms(10));
        Assert.Equal(200, (await Call(client, "second")).Status);
        var sent = client.BytesSent;

        // The first request's trailer is due now, but the second request already trails it; the second's is due 10 ms later.
        time.Advance(Ms(15));
        await Task.Delay(100);
        Assert.Equal(sent, client.BytesSent);
        time.Advance(Ms(10));
        await Eventually.TrueAsync(() => client.TrailersSent == 1, "the second request's trailer goes");
        Assert.Equal(sent + EmptyPingFrame, client.BytesSent);
    }

    [Fact]
    public async Task Trailers_can_be_turned_off()
    {
        var (gateway, client, time) = await StartAsync("dev-trailers-off", lossy: true, trailers: false);
        await using var _ = gateway;
        await using var __ = client;
        Assert.Equal(200, (await Call(client, "first")).Status);
        var sent = client.BytesSent;

        time.Advance(Ms(100));
        await Task.Delay(100);
        Assert.Equal(sent, client.BytesSent);
    }
}
