using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AccessLayer.Gateway.Security;
using AccessLayer.Gateway.Tests.Governance;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Security;

/// <summary>
/// Reloading the ACL and the password file through <c>POST /api/v1/admin/reload</c> while
/// clients stay connected: new rules reach live subscriptions and new SUBSCRIBEs, new users the
/// next CONNECT, and a file that does not load keeps the old one.
/// </summary>
public sealed class SecurityReloaderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("al-reload-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_reloaded_ACL_filters_a_live_wildcard_subscription_and_refuses_new_SUBSCRIBEs_without_dropping_anyone()
    {
        var acl = Write("acl", "allow * all #");
        await using var gateway = await GovernedGateway.StartAsync($"--Acl:File={acl}", "--SecurityReload:Watch=false");
        await using var reader = await gateway.ConnectClientAsync();
        await reader.ConnectAsync("reader");
        Assert.Equal(MqttReasonCode.GrantedQoS1, (await reader.SubscribeAsync("#", packetId: 1)).ReasonCodes[0]);
        Assert.True(gateway.Broker.TryGetClient("reader", out var connection));
        Assert.False(connection.IsReadChecked);

        Write("acl", """
            deny  * subscribe test/nosubscribe
            allow * all       #
            """);
        var response = await gateway.Admin.PostAsync("/api/v1/admin/reload", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("reloaded", body.GetProperty("acl").GetProperty("status").GetString());
        Assert.Equal("not_configured", body.GetProperty("passwordFile").GetProperty("status").GetString());
        Assert.Equal("not_configured", body.GetProperty("tls").GetProperty("status").GetString());

        // The connection from before the reload is the same one, now checked per message.
        Assert.True(gateway.Broker.TryGetClient("reader", out var after));
        Assert.Same(connection, after);
        Assert.True(after.IsReadChecked);

        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("publisher");
        await publisher.PublishAsync("test/nosubscribe", "hidden");
        await publisher.PublishAsync("test/open", "seen");
        Assert.Equal("test/open", (await reader.ReceivePublishAsync()).Message.Topic);
        Assert.Equal(MqttReasonCode.NotAuthorized, (await reader.SubscribeAsync("test/nosubscribe", packetId: 2)).ReasonCodes[0]);

        // Reloading the same content changes nothing.
        var again = await (await gateway.Admin.PostAsync("/api/v1/admin/reload", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("unchanged", again.GetProperty("acl").GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_reload_that_lifts_the_deny_rules_stops_checking_live_subscriptions()
    {
        // The other direction: the per-message check must not outlive the rule that needed it.
        var acl = Write("acl", "deny * subscribe test/nosubscribe");
        await using var gateway = await GovernedGateway.StartAsync($"--Acl:File={acl}", "--SecurityReload:Watch=false");
        await using var reader = await gateway.ConnectClientAsync();
        await reader.ConnectAsync("reader");
        await reader.SubscribeAsync("#");
        Assert.True(gateway.Broker.TryGetClient("reader", out var connection));
        Assert.True(connection.IsReadChecked);

        Write("acl", "allow * all #");
        Assert.Equal(HttpStatusCode.OK, (await gateway.Admin.PostAsync("/api/v1/admin/reload", null)).StatusCode);
        Assert.False(connection.IsReadChecked);

        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("publisher");
        await publisher.PublishAsync("test/nosubscribe", "now visible");
        Assert.Equal("test/nosubscribe", (await reader.ReceivePublishAsync()).Message.Topic);
    }

    [Fact]
    public async Task A_bad_ACL_file_keeps_the_old_rules_and_the_call_says_what_is_wrong()
    {
        var acl = Write("acl", "deny * subscribe secret/#");
        await using var gateway = await GovernedGateway.StartAsync($"--Acl:File={acl}", "--SecurityReload:Watch=false");
        await using var client = await gateway.ConnectClientAsync();
        await client.ConnectAsync("client");

        Write("acl", """
            allow * all #
            maybe * subscribe secret/#
            """);
        var response = await gateway.Admin.PostAsync("/api/v1/admin/reload", null);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var outcome = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("acl");
        Assert.Equal("failed", outcome.GetProperty("status").GetString());
        Assert.Contains("line 2", outcome.GetProperty("error").GetString(), StringComparison.Ordinal);

        Assert.Equal(MqttReasonCode.NotAuthorized, (await client.SubscribeAsync("secret/x", packetId: 1)).ReasonCodes[0]);
        Assert.True(gateway.Broker.TryGetClient("client", out _));
    }

    [Fact]
    public async Task A_reloaded_password_file_applies_to_the_next_CONNECT_and_leaves_connected_users_connected()
    {
        var passwords = Write("passwords", "alice:" + PasswordHash.Create("a-pass", 1000));
        await using var gateway = await GovernedGateway.StartAsync($"--Auth:PasswordFile={passwords}", "--SecurityReload:Watch=false");
        await using var alice = await gateway.ConnectClientAsync();
        Assert.Equal(MqttReasonCode.Success, (await alice.ConnectAsync(Connect("alice-1", "alice", "a-pass"))).ReasonCode);
        await alice.SubscribeAsync("news");

        Write("passwords", "bob:" + PasswordHash.Create("b-pass", 1000));
        var body = await (await gateway.Admin.PostAsync("/api/v1/admin/reload", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("reloaded", body.GetProperty("passwordFile").GetProperty("status").GetString());

        await using var bob = await gateway.ConnectClientAsync();
        Assert.Equal(MqttReasonCode.Success, (await bob.ConnectAsync(Connect("bob-1", "bob", "b-pass"))).ReasonCode);
        await using var aliceAgain = await gateway.ConnectClientAsync();
        Assert.Equal(MqttReasonCode.BadUserNameOrPassword, (await aliceAgain.ConnectAsync(Connect("alice-2", "alice", "a-pass"))).ReasonCode);

        // Alice's first connection was never touched: it still gets what bob publishes.
        await bob.PublishAsync("news", "hello");
        Assert.Equal("news", (await alice.ReceivePublishAsync()).Message.Topic);
    }

    [Fact]
    public async Task A_bad_password_file_keeps_the_old_users()
    {
        var passwords = Write("passwords", "alice:" + PasswordHash.Create("a-pass", 1000));
        await using var gateway = await GovernedGateway.StartAsync($"--Auth:PasswordFile={passwords}", "--SecurityReload:Watch=false");
        Write("passwords", "alice:plaintext");

        var response = await gateway.Admin.PostAsync("/api/v1/admin/reload", null);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("failed", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("passwordFile").GetProperty("status").GetString());
        await using var alice = await gateway.ConnectClientAsync();
        Assert.Equal(MqttReasonCode.Success, (await alice.ConnectAsync(Connect("alice-1", "alice", "a-pass"))).ReasonCode);
    }

    [Fact]
    public async Task The_reload_call_needs_the_admin_token()
    {
        await using var gateway = await GovernedGateway.StartAsync("--SecurityReload:Watch=false");
        Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.Http.PostAsync("/api/v1/admin/reload", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Admin.PostAsync("/api/v1/admin/reload", null)).StatusCode);
    }

    private static MqttConnectPacket Connect(string clientId, string user, string password) => new()
    {
        ProtocolVersion = MqttProtocolVersion.V500,
        ClientId = clientId,
        UserName = user,
        Password = Encoding.UTF8.GetBytes(password),
        CleanStart = true,
    };

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }
}
