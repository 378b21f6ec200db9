using System.Net;
using AccessLayer.Client;
using AccessLayer.Client.Strategies;
using AccessLayer.Protocol.Mlp.Envelopes;

namespace AccessLayer.Mlp.Tests.Strategies;

public sealed class EndpointListTests
{
    private static readonly Uri Primary = new("tcp://gw.example.com:7000");
    private static readonly Uri Secondary = new("tls://10.0.0.2:7443");

    private static Task<IPAddress[]> Resolve(string host, CancellationToken _) => Task.FromResult(host switch
    {
        "gw.example.com" => new[] { IPAddress.Parse("192.0.2.1"), IPAddress.Parse("192.0.2.2"), IPAddress.Parse("2001:db8::1") },
        _ => Array.Empty<IPAddress>(),
    });

    [Fact]
    public async Task A_host_name_expands_to_every_address_IPv6_first_then_the_families_alternating()
    {
        var list = new EndpointList(new MlpClientOptions { Endpoint = Primary, Endpoints = [Secondary] });

        var candidates = await list.CandidatesAsync(resolve: true, Resolve, CancellationToken.None);

        Assert.Equal(["2001:db8::1", "192.0.2.1", "192.0.2.2", "(whole)"], candidates.Select(c => c.Address?.ToString() ?? "(whole)"));
        Assert.Equal([Primary, Primary, Primary, Secondary], candidates.Select(c => c.Endpoint));
    }

    [Fact]
    public void A_WELCOMEs_home_endpoints_go_before_the_configured_ones_until_a_WELCOME_without_them()
    {
        var list = new EndpointList(new MlpClientOptions { Endpoint = Primary, Endpoints = [Secondary] });
        list.OnConnected(new ConnectCandidate(Primary, IPAddress.Parse("192.0.2.2")));
        var welcome = new Welcome();
        welcome.HomeEndpoints.Add(new Endpoint { Host = "10.2.0.1", Port = 7000, Transport = Transport.Tcp, Zone = "bj-a" });

        list.OnWelcome(welcome);

        // The gateway that forwards for this user is not where the next connect should go first.
        Assert.Null(list.Preferred);
        Assert.Equal([new Uri("tcp://10.2.0.1:7000"), Primary, Secondary], list.Endpoints());

        list.OnWelcome(new Welcome());
        Assert.Equal([Primary, Secondary], list.Endpoints());
    }

    [Fact]
    public async Task Last_winner_goes_first_and_GOAWAY_endpoints_go_before_the_configured_ones()
    {
        var list = new EndpointList(new MlpClientOptions { Endpoint = Primary, Endpoints = [Secondary] });
        list.OnConnected(new ConnectCandidate(Primary, IPAddress.Parse("192.0.2.2")));

        var preferred = await list.CandidatesAsync(resolve: true, Resolve, CancellationToken.None);
        Assert.Equal("192.0.2.2", preferred[0].Address?.ToString());

        var goAway = new GoAway();
        goAway.Endpoints.Add(new Endpoint { Host = "10.0.0.9", Port = 7001, Transport = Transport.Tcp });
        goAway.Endpoints.Add(new Endpoint { Host = "10.0.0.10", Port = 8443, Transport = Transport.WebsocketTls, Path = "/mlp" });
        goAway.Endpoints.Add(new Endpoint { Host = "10.0.0.11", Port = 8080, Transport = Transport.Http });
        list.OnGoAway(goAway);

        // Sent elsewhere: last time's winner no longer goes first; HTTP endpoints cannot carry the long link.
        Assert.Null(list.Preferred);
        Assert.Equal([new Uri("tcp://10.0.0.9:7001"), new Uri("wss://10.0.0.10:8443/mlp"), Primary, Secondary], list.Endpoints());
    }

    [Fact]
    public async Task Without_address_racing_endpoints_stay_whole()
    {
        var list = new EndpointList(new MlpClientOptions { Endpoint = Primary });

        var candidates = await list.CandidatesAsync(resolve: false, Resolve, CancellationToken.None);

        Assert.Equal([new ConnectCandidate(Primary, null)], candidates);
    }
}
