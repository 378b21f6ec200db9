using System.Net;
using System.Text.Json;
using AccessLayer.Gateway.Tests.Broker;
using AccessLayer.Gateway.Tests.Governance;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Admin;

/// <summary>The operator API (its bearer token: ManagementAuthorizationTests): paged client list, one client with its socket and session, kick.</summary>
public sealed class AdminApiTests
{
    [Fact]
    public async Task Clients_are_listed_by_prefix_in_client_id_order_one_page_at_a_time()
    {
        await using var gateway = await GovernedGateway.StartAsync();
        var clients = new List<RawMqttClient>();
        foreach (var id in Enumerable.Range(0, 25).Select(i => $"dev-{i:D2}").Append("other"))
        {
            var client = await gateway.ConnectClientAsync();
            await client.ConnectAsync(id, id == "other" ? MqttProtocolVersion.V311 : MqttProtocolVersion.V500, keepAlive: 30);
            clients.Add(client);
        }

        using var page = JsonDocument.Parse(await gateway.Admin.GetStringAsync("/api/v1/clients?prefix=dev-&page=2&pageSize=10"));
        var root = page.RootElement;
        Assert.Equal(25, root.GetProperty("total").GetInt32());
        Assert.Equal(2, root.GetProperty("page").GetInt32());
        var ids = root.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("clientId").GetString()).ToList();
        Assert.Equal(Enumerable.Range(10, 10).Select(i => $"dev-{i:D2}"), ids);
        var first = root.GetProperty("items")[0];
        Assert.Equal("5.0", first.GetProperty("protocolVersion").GetString());
        Assert.Equal("tcp", first.GetProperty("listener").GetString());
        Assert.Equal(30, first.GetProperty("keepAlive").GetInt32());

        using var all = JsonDocument.Parse(await gateway.Admin.GetStringAsync("/api/v1/clients?pageSize=100"));
        Assert.Equal(26, all.RootElement.GetProperty("total").GetInt32());

        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task One_client_shows_its_connection_socket_options_and_session()
    {
        await using var gateway = await GovernedGateway.StartAsync(
            "--Limits:TcpKeepAliveTime=00:00:45", "--Limits:TcpKeepAliveInterval=00:00:05", "--Limits:TcpKeepAliveRetryCount=4", "--Limits:TcpUserTimeout=00:00:20", "--Mqtt:Users:alice=pw");
        await using var client = await gateway.ConnectClientAsync();
        await client.ConnectAsync(new MqttConnectPacket { ProtocolVersion = MqttProtocolVersion.V500, ClientId = "inspect-me", UserName = "alice", Password = "pw"u8.ToArray(), SessionExpiryInterval = 300, CleanStart = true });
        await client.SubscribeAsync("a/+", MqttQualityOfService.AtLeastOnce);

        using var detail = JsonDocument.Parse(await gateway.Admin.GetStringAsync("/api/v1/clients/inspect-me"));
        var root = detail.RootElement;
        Assert.True(root.GetProperty("connected").GetBoolean());
        Assert.Equal("alice", root.GetProperty("connection").GetProperty("userName").GetString());
        Assert.Equal("static", root.GetProperty("authenticationMethod").GetString());
        var socket = root.GetProperty("socket");
        Assert.True(socket.GetProperty("keepAlive").GetBoolean());
        Assert.Equal(45, socket.GetProperty("keepAliveTimeSeconds").GetInt32());
        Assert.Equal(5, socket.GetProperty("keepAliveIntervalSeconds").GetInt32());
        Assert.Equal(4, socket.GetProperty("keepAliveRetryCount").GetInt32());
        Assert.Equal(20_000, socket.GetProperty("userTimeoutMilliseconds").GetInt32());
        var session = root.GetProperty("session");
        Assert.Equal(300u, session.GetProperty("sessionExpiryInterval").GetUInt32());
        Assert.Equal("a/+", session.GetProperty("subscriptions")[0].GetProperty("topicFilter").GetString());

        Assert.Equal(HttpStatusCode.NotFound, (await gateway.Admin.GetAsync("/api/v1/clients/nobody")).StatusCode);
    }

    [Fact]
    public async Task Kicking_a_client_sends_0x98_and_closes_it()
    {
        await using var gateway = await GovernedGateway.StartAsync();
        await using var client = await gateway.ConnectClientAsync();
        await client.ConnectAsync("troublemaker");

        Assert.Equal(HttpStatusCode.NoContent, (await gateway.Admin.DeleteAsync("/api/v1/clients/troublemaker")).StatusCode);
        Assert.Equal(MqttReasonCode.AdministrativeAction, (await client.ReceiveAsync()).AsDisconnect(MqttProtocolVersion.V500).ReasonCode);
        Assert.True(await client.WaitForCloseAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.Admin.DeleteAsync("/api/v1/clients/troublemaker")).StatusCode);
        Assert.Equal(1, await gateway.MetricAsync("accesslayer_mqtt_disconnects_total", ("reason", "admin_kick")));
    }

    [Fact]
    public async Task Clients_are_found_by_a_part_of_their_client_id_or_user_name_whatever_its_case()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Mqtt:Users:alice=pw", "--Mqtt:Users:bob=pw");
        var clients = new List<RawMqttClient>();
        foreach (var (id, user) in new[] { ("sensor-1", "alice"), ("SENSOR-2", "bob"), ("pump", "alice") })
        {
            var client = await gateway.ConnectClientAsync();
            await client.ConnectAsync(new MqttConnectPacket { ProtocolVersion = MqttProtocolVersion.V500, ClientId = id, UserName = user, Password = "pw"u8.ToArray(), CleanStart = true });
            clients.Add(client);
        }

        Assert.Equal(["SENSOR-2", "sensor-1"], await SearchAsync(gateway, "sensor"));
        Assert.Equal(["pump", "sensor-1"], await SearchAsync(gateway, "ALI"));
        Assert.Empty(await SearchAsync(gateway, "carol"));

        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
    }

    private static async Task<List<string>> SearchAsync(GovernedGateway gateway, string search)
    {
        using var page = JsonDocument.Parse(await gateway.Admin.GetStringAsync("/api/v1/clients?search=" + Uri.EscapeDataString(search)));
        return [.. page.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("clientId").GetString()!)];
    }
}
