using System.Text;
using AccessLayer.Gateway.Tests.Broker;
using AccessLayer.Gateway.Traffic;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Traffic;

/// <summary>
/// The in-process gateway of site <c>sh</c> (fake clock) with a table whose <c>telemetry</c> service has real backends
/// labelled by zone: sh-a (shards 0-49) blue and shadow, sh-b (50-99) blue; and three uplink rules: <c>telemetry</c>
/// (devices/+/telemetry, forward only), <c>events</c> (devices/+/events/#, forward-and-publish, operation <c>events</c>),
/// <c>strict</c> (strict/#, requires a uid). Users <see cref="UserA"/> and <see cref="UserB"/> (password = name + "-pw")
/// are authenticated by <c>Mqtt:Users</c>, so their uid is their user name.
/// </summary>
internal sealed class UplinkGateway : IAsyncDisposable
{
    public const string Secret = "test-traffic-secret-0123456789";

    private UplinkGateway(InProcessGateway gateway, string tablePath, UplinkBackend[] backends)
    {
        Gateway = gateway;
        TablePath = tablePath;
        BlueA = backends[0];
        ShadowA = backends[1];
        BlueB = backends[2];
    }

    /// <summary>A user whose shard puts it in sh-a.</summary>
    public static string UserA { get; } = UserInShards(0, 49);

    /// <summary>A user whose shard puts it in sh-b.</summary>
    public static string UserB { get; } = UserInShards(50, 99);

    public InProcessGateway Gateway { get; }

    public string TablePath { get; }

    public UplinkBackend BlueA { get; }

    public UplinkBackend ShadowA { get; }

    public UplinkBackend BlueB { get; }

    public static Task<UplinkGateway> StartAsync(params string[] settings) => StartWithTelemetryRuleAsync(string.Empty, settings);

    /// <summary>As <see cref="StartAsync(string[])"/>, with <paramref name="telemetryBatching"/> (YAML keys, e.g. <c>batchSize: 2</c>) added to the <c>telemetry</c> rule.</summary>
    public static async Task<UplinkGateway> StartWithTelemetryRuleAsync(string telemetryBatching, params string[] settings)
    {
        var backends = await Task.WhenAll(new[] { "sh-a/blue", "sh-a/shadow", "sh-b/blue" }.Select(UplinkBackend.StartAsync));
        var path = Path.Combine(Path.GetTempPath(), "uplinks-" + Guid.NewGuid().ToString("N") + ".yaml");
        await File.WriteAllTextAsync(path, Table(1, backends[0].Url, backends[1].Url, backends[2].Url, telemetryBatching: telemetryBatching));
        var gateway = await InProcessGateway.StartAsync(
        [
            $"--Traffic:TableFile={path}", "--Traffic:Site=sh", $"--Traffic:Secret={Secret}", "--Traffic:Watch=false",
            "--Traffic:UplinkLinger=00:00:00", "--Traffic:UplinkTimeout=00:00:02", "--Traffic:UplinkRetryDelay=00:00:01",
            $"--Mqtt:Users:{UserA}={UserA}-pw", $"--Mqtt:Users:{UserB}={UserB}-pw",
            .. settings,
        ]);
        return new UplinkGateway(gateway, path, backends);
    }

    /// <summary>sh-a's green is sh-b's backend (told apart by the x-mlp-zone header), its canary the shadow backend; gray rule <c>meters-beta</c> sends client id <c>meter-beta</c> to canary.</summary>
    public static string Table(long version, string blueA, string shadowA, string blueB, string down = "[]", int greenWeight = 0, string telemetryBatching = "") => $$"""
        version: {{version}}
        sites:
          sh: { city: shanghai }
        zones:
          sh-a:
            site: sh
            services:
              telemetry:
                blue: ["{{blueA}}"]
                green: ["{{blueB}}"]
                greenWeight: {{greenWeight}}
                groups:
                  shadow: ["{{shadowA}}"]
                  canary: ["{{shadowA}}"]
          sh-b:
            site: sh
            services:
              telemetry: { blue: ["{{blueB}}"] }
        shards:
          0-49: sh-a
          50-99: sh-b
        down: {{down}}
        standby:
          sh-a: sh-b
          sh-b: sh-a
        gray:
          - name: meters-beta
            group: canary
            deviceIds: ["meter-beta"]
        loadTest:
          group: shadow
        uplinks:
          - name: telemetry
            topic: "devices/+/telemetry"
            service: telemetry
            {{telemetryBatching}}
          - name: events
            topic: "devices/+/events/#"
            service: telemetry
            operation: events
            mode: forward-and-publish
          - name: strict
            topic: "strict/#"
            service: telemetry
            requireUid: true
        """;

    public TrafficUplinks Uplinks => (TrafficUplinks)Gateway.Services.GetService(typeof(TrafficUplinks))!;

    /// <summary>A raw MQTT client of <paramref name="user"/> (null: anonymous), connected.</summary>
    public async Task<RawMqttClient> ConnectAsync(string clientId, string? user, MqttProtocolVersion version = MqttProtocolVersion.V500)
    {
        var client = await Gateway.ConnectClientAsync();
        var connack = await client.ConnectAsync(new MqttConnectPacket
        {
            ProtocolVersion = version,
            ClientId = clientId,
            CleanStart = true,
            UserName = user,
            Password = user is null ? null : Encoding.UTF8.GetBytes(user + "-pw"),
        });
        Assert.Equal(MqttReasonCode.Success, connack.ReasonCode);
        return client;
    }

    /// <summary>Moves the fake clock by <paramref name="step"/> until <paramref name="condition"/> holds (a timer armed after a move needs another), bounded.</summary>
    public async Task AdvanceUntilAsync(Func<bool> condition, TimeSpan step, string what)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            Gateway.Time.Advance(step);
            await Task.Delay(20);
        }

        Assert.True(condition(), $"{what} not reached in time.");
    }

    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition(), $"{what} not reached in time.");
    }

    private static string UserInShards(int from, int to)
    {
        for (var i = 0; ; i++)
        {
            var uid = "dev-user-" + i;
            var shard = UidShards.Of(uid);
            if (shard >= from && shard <= to)
                return uid;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        foreach (var backend in new[] { BlueA, ShadowA, BlueB })
            await backend.DisposeAsync();
        File.Delete(TablePath);
    }
}
