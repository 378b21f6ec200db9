using System.Text;
using AccessLayer.Client;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Mlp.Tests.Traffic;

/// <summary>
/// Two real gateways as sites sh and bj over site links, the table naming bj's long-link endpoint: a real SDK client of a
/// bj user that connects to sh is served by the forward at first, and steered home by <c>Traffic:Steer</c>.
/// </summary>
public sealed class TrafficSteeringTests : IAsyncDisposable
{
    private readonly int _bjMlpPort = FreePorts.Next();
    private LabelledBackend? _shBackend;
    private LabelledBackend? _bjBackend;
    private TrafficTestTables.File? _file;
    private MlpTestGateway? _sh;
    private MlpTestGateway? _bj;

    private async Task StartAsync(string steer)
    {
        _shBackend = await LabelledBackend.StartAsync("sh-a/blue");
        _bjBackend = await LabelledBackend.StartAsync("bj-a/blue");
        var shForward = FreePorts.Next();
        var bjForward = FreePorts.Next();
        _file = new TrafficTestTables.File($$"""
            version: 1
            sites:
              sh: { city: shanghai, gateways: ["http://127.0.0.1:{{shForward}}/"], link: true }
              bj: { city: beijing, gateways: ["http://127.0.0.1:{{bjForward}}/"], link: true, endpoints: ["tcp://127.0.0.1:{{_bjMlpPort}}"] }
            zones:
              sh-a: { site: sh, services: { orders: { blue: ["{{_shBackend.Url}}"] } } }
              bj-a: { site: bj, services: { orders: { blue: ["{{_bjBackend.Url}}"] } } }
            shards:
              0-49: sh-a
              50-99: bj-a
            """);
        string[] common = [$"--Traffic:Steer={steer}"];
        _sh = await MlpTestGateway.StartAsync([.. TrafficTestTables.Settings(_file, "sh"), $"--Traffic:ForwardPort={shForward}", .. common]);
        _bj = await MlpTestGateway.StartAsync([.. TrafficTestTables.Settings(_file, "bj"), $"--Traffic:ForwardPort={bjForward}", $"--Mlp:Port={_bjMlpPort}", .. common]);
    }

    private MlpClient Client(string uid, bool autoReconnect)
    {
        var options = _sh!.ClientOptions("dev-" + uid, uid);
        options.WeakNetwork = new MlpWeakNetworkOptions { AutoReconnect = autoReconnect };
        return new MlpClient(options);
    }

    [Fact]
    public async Task Redirect_moves_a_client_home_after_its_first_forwarded_call_and_its_calls_are_then_not_forwarded()
    {
        await StartAsync("Redirect");
        var uid = TrafficTestTables.UidInShards(50, 99);
        await using var client = Client(uid, autoReconnect: true);
        var home = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Reconnected += c =>
        {
            if (c.ConnectedEndpoint?.Port == _bjMlpPort)
                home.TrySetResult();
        };
        await client.ConnectAsync();
        Assert.Equal(_sh!.MlpPort, client.ConnectedEndpoint!.Port);
        Assert.Equal(_bjMlpPort, (int)Assert.Single(client.LastWelcome!.HomeEndpoints).Port);

        // The first call is the forward's: answered from bj through sh.
        var first = await client.CallAsync("orders", "create", "x"u8.ToArray());
        Assert.Equal("bj-a/blue", Encoding.UTF8.GetString(first.Body.Span));
        Assert.Equal("sh", first.Header("mlp-forwarded-by"));

        await home.Task.WaitAsync(TimeSpan.FromSeconds(20));
        for (var i = 0; i < 5; i++)
        {
            var call = await client.CallAsync("orders", "create", "x"u8.ToArray());
            Assert.Equal("bj-a/blue", Encoding.UTF8.GetString(call.Body.Span));
            Assert.Null(call.Header("mlp-forwarded-by"));
            // sh's cookie came along in the GOAWAY, and bj honours it: no lookup at home either.
            Assert.Equal("cookie", call.Header("mlp-route-reason"));
        }

        Assert.Equal(6, _bjBackend!.Calls.Count);
        using var http = new HttpClient { BaseAddress = _sh.ManagementBase };
        var metrics = await http.GetStringAsync(new Uri("metrics", UriKind.Relative));
        Assert.Matches("accesslayer_traffic_forwarded_total\\{[^}]*result=\"ok\"[^}]*\\} 1(?!\\d)", metrics);
        Assert.Matches("accesslayer_traffic_steered_total\\{[^}]*how=\"redirect\"[^}]*\\} 1(?!\\d)", metrics);
    }

    [Fact]
    public async Task Hint_names_the_home_site_in_welcome_and_the_clients_next_connect_goes_there()
    {
        await StartAsync("Hint");
        var uid = TrafficTestTables.UidInShards(50, 99);
        await using var client = Client(uid, autoReconnect: false);
        await client.ConnectAsync();
        Assert.Equal(_sh!.MlpPort, client.ConnectedEndpoint!.Port);

        // No redirect: the link stays, its calls forwarded, for as long as the client does not reconnect.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("sh", (await client.CallAsync("orders", "create", "x"u8.ToArray())).Header("mlp-forwarded-by"));
        }

        await client.CloseAsync();
        await client.ConnectAsync();

        Assert.Equal(_bjMlpPort, client.ConnectedEndpoint!.Port);
        Assert.Empty(client.LastWelcome!.HomeEndpoints);
        Assert.Null((await client.CallAsync("orders", "create", "x"u8.ToArray())).Header("mlp-forwarded-by"));
    }

    [Fact]
    public async Task A_user_of_this_site_is_not_steered()
    {
        await StartAsync("Redirect");
        await using var client = Client(TrafficTestTables.UidInShards(0, 49), autoReconnect: true);
        await client.ConnectAsync();

        Assert.Empty(client.LastWelcome!.HomeEndpoints);
        Assert.Null((await client.CallAsync("orders", "create", "x"u8.ToArray())).Header("mlp-forwarded-by"));
        Assert.Equal(_sh!.MlpPort, client.ConnectedEndpoint!.Port);
    }

    public async ValueTask DisposeAsync()
    {
        if (_sh is not null)
            await _sh.DisposeAsync();
        if (_bj is not null)
            await _bj.DisposeAsync();
        if (_shBackend is not null)
            await _shBackend.DisposeAsync();
        if (_bjBackend is not null)
            await _bjBackend.DisposeAsync();
        _file?.Dispose();
    }
}
