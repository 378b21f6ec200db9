using AccessLayer.Bots.Cli;
using AccessLayer.Protocol.Mqtt;
using FsCheck;
using FsCheck.Fluent;

namespace AccessLayer.Bots.Tests.Cli;

public sealed class BotCommandLineTests
{
    private static BotOptions Parse(params string[] args)
    {
        var ok = new BotCommandLine().TryParse(args, out var options, out var errors);
        Assert.True(ok, string.Join("; ", errors));
        return options!;
    }

    private static IReadOnlyList<string> Errors(params string[] args)
    {
        Assert.False(new BotCommandLine().TryParse(args, out _, out var errors));
        return errors;
    }

    [Theory]
    [InlineData("conn", ScenarioKind.Conn)]
    [InlineData("pub", ScenarioKind.Pub)]
    [InlineData("sub", ScenarioKind.Sub)]
    [InlineData("p2p", ScenarioKind.P2p)]
    [InlineData("fan-in", ScenarioKind.FanIn)]
    [InlineData("fan-out", ScenarioKind.FanOut)]
    [InlineData("shared", ScenarioKind.Shared)]
    [InlineData("mlp-rpc", ScenarioKind.MlpRpc)]
    [InlineData("mlp-push", ScenarioKind.MlpPush)]
    public void Each_subcommand_selects_its_scenario(string name, ScenarioKind kind) =>
        Assert.Equal(kind, Parse(name).Scenario);

    [Fact]
    public void Defaults_are_bounded_and_sensible()
    {
        var o = Parse("p2p");
        Assert.Equal("127.0.0.1", o.Host);
        Assert.Equal(1883, o.Port);
        Assert.Equal(MqttProtocolVersion.V311, o.Version);
        Assert.Equal(MqttQualityOfService.AtMostOnce, o.Qos);
        Assert.Equal(TimeSpan.FromSeconds(10), o.Duration);
        Assert.Equal(TimeSpan.FromSeconds(1), o.Warmup);
        Assert.Equal(64, o.PayloadSize);
        Assert.Equal(1, o.Workers);
        Assert.False(o.IsWorkerChild);
        Assert.StartsWith("bots/", o.TopicPrefix, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_and_short_aliases_bind()
    {
        var o = Parse("fan-out", "-H", "broker.local", "-p", "8883", "--tls", "--insecure", "-V", "5", "-q", "2", "-s", "256", "-c", "50",
            "-n", "1000", "-r", "20", "-d", "30", "-w", "2", "--inflight", "8", "--json", "--quiet");
        Assert.Equal("broker.local", o.Host);
        Assert.Equal(8883, o.Port);
        Assert.True(o.Tls);
        Assert.True(o.Insecure);
        Assert.Equal(MqttProtocolVersion.V500, o.Version);
        Assert.Equal(MqttQualityOfService.ExactlyOnce, o.Qos);
        Assert.Equal(256, o.PayloadSize);
        Assert.Equal(50, o.Count);
        Assert.Equal(1000, o.Messages);
        Assert.Equal(20, o.Rate);
        Assert.Equal(TimeSpan.FromSeconds(30), o.Duration);
        Assert.Equal(TimeSpan.FromSeconds(2), o.Warmup);
        Assert.Equal(8, o.Inflight);
        Assert.True(o.Json);
        Assert.True(o.Quiet);
    }

    [Fact]
    public void Options_may_come_before_the_scenario()
    {
        var o = Parse("--port", "1999", "conn", "--count", "3");
        Assert.Equal(1999, o.Port);
        Assert.Equal(3, o.Count);
    }

    [Fact]
    public void Duration_is_capped_at_one_hour() =>
        Assert.Equal(BotOptions.MaxDuration, Parse("conn", "--duration", "999999").Duration);

    [Fact]
    public void Total_rate_is_divided_among_publishers()
    {
        var o = Parse("fan-in", "--total-rate", "1000", "--rate", "5");
        Assert.Equal(100, o.RatePerPublisher(10));
        Assert.Equal(5, Parse("fan-in", "--rate", "5").RatePerPublisher(10));
    }

    [Theory]
    [InlineData("p2p", "--qos", "3")]
    [InlineData("p2p", "--size", "4")]
    [InlineData("p2p", "--count", "0")]
    [InlineData("p2p", "--duration", "0")]
    [InlineData("p2p", "--warmup", "10", "--duration", "5")]
    [InlineData("p2p", "--insecure")]
    [InlineData("p2p", "--workers", "2")]
    [InlineData("conn", "--workers", "5", "--count", "2")]
    [InlineData("p2p", "--mqtt-version", "4.0")]
    [InlineData("p2p", "--rate", "-1")]
    [InlineData("p2p", "--port", "70000")]
    [InlineData("p2p", "--bogus")]
    [InlineData("conn", "--settle", "-1")]
    [InlineData("--count", "3")]
    [InlineData("p2p", "--interval", "0.01")]
    [InlineData("p2p", "--interval-log", "x.jsonl")]
    public void Invalid_command_lines_are_refused_with_a_reason(params string[] args) =>
        Assert.NotEmpty(Errors(args));

    [Fact]
    public void ToArgs_reproduces_the_same_options()
    {
        var gen =
            from scenario in Gen.Elements(Enum.GetValues<ScenarioKind>())
            from qos in Gen.Choose(0, 2)
            from v5 in Gen.Elements(true, false)
            from count in Gen.Choose(1, 100_000)
            from size in Gen.Choose(8, 1_000_000)
            from rate in Gen.Choose(0, 100_000)
            from durationMs in Gen.Choose(2_000, 3_600_000)
            from warmupMs in Gen.Choose(0, 1_999)
            from sources in Gen.Choose(0, 64)
            from tls in Gen.Elements(true, false)
            from json in Gen.Elements(true, false)
            from pid in Gen.Choose(0, 100_000)
            from settleMs in Gen.Choose(0, 60_000)
            from offset in Gen.Choose(0, 3)
            from expiry in Gen.Choose(0, 86_400)
            select new BotOptions
            {
                Scenario = scenario,
                Qos = (MqttQualityOfService)qos,
                Version = v5 ? MqttProtocolVersion.V500 : MqttProtocolVersion.V311,
                Count = count,
                PayloadSize = size,
                Rate = rate / 10.0,
                Duration = TimeSpan.FromMilliseconds(durationMs),
                Warmup = TimeSpan.FromMilliseconds(warmupMs),
                SourceAddresses = sources,
                Tls = tls,
                Insecure = tls && json,
                Json = json,
                BrokerPid = pid == 0 ? null : pid,
                BrokerPids = pid == 0 ? "" : $"{pid + 1},{pid + 2}",
                SubscriberOffset = offset,
                SessionExpiry = (uint)expiry,
                Settle = TimeSpan.FromMilliseconds(settleMs),
                TopicPrefix = "t/" + count,
            };
        Prop.ForAll(gen.ToArbitrary(), original =>
        {
            var ok = new BotCommandLine().TryParse(original.ToArgs(), out var parsed, out _);
            return ok && parsed == original;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Mlp_scenarios_default_to_the_mlp_port_and_one_call_in_flight()
    {
        var o = Parse("mlp-rpc");
        Assert.Equal(7000, o.Port);
        Assert.Equal(1, o.Concurrency);
        Assert.Equal("http://127.0.0.1:8081/", o.Management);
        Assert.Equal(MlpPushTarget.One, o.PushTarget);
        Assert.False(o.Compress);
        Assert.Equal("", o.TokenSecret);
    }

    [Fact]
    public void Mlp_rpc_takes_port_concurrency_size_and_compression()
    {
        var o = Parse("mlp-rpc", "--port", "1883", "--concurrency", "16", "--size", "1024", "--count", "3", "--messages", "50", "--compress");
        Assert.Equal(1883, o.Port);
        Assert.Equal(16, o.Concurrency);
        Assert.Equal(1024, o.PayloadSize);
        Assert.Equal(3, o.Count);
        Assert.Equal(50, o.Messages);
        Assert.True(o.Compress);
    }

    [Fact]
    public void Mlp_push_takes_target_management_url_and_token_and_token_secret()
    {
        var o = Parse("mlp-push", "--push-target", "all", "--token-secret", "s3cret", "--management", "http://10.0.0.5:18081/", "--management-token", "ops-token", "--rate", "200");
        Assert.Equal(MlpPushTarget.All, o.PushTarget);
        Assert.Equal("s3cret", o.TokenSecret);
        Assert.Equal("http://10.0.0.5:18081/", o.Management);
        Assert.Equal("ops-token", o.ManagementToken);
        Assert.Equal(200, o.Rate);
    }

    [Fact]
    public void A_user_per_device_needs_a_token_secret_and_names_each_devices_own_user()
    {
        Assert.Contains(Errors("mlp-rpc", "--user-per-device"), e => e.Contains("--token-secret", StringComparison.Ordinal));
        var o = Parse("mlp-rpc", "--user-per-device", "--token-secret", "s3cret");
        Assert.True(o.UserPerDevice);
        // A traffic table routes by the token's user: each device its own, or the run's one without the option.
        Assert.NotEqual(AccessLayer.Bots.Scenarios.MlpFleet.UserOf(o, "run1", 0), AccessLayer.Bots.Scenarios.MlpFleet.UserOf(o, "run1", 1));
        var shared = Parse("mlp-rpc", "--token-secret", "s3cret");
        Assert.Equal(AccessLayer.Bots.Scenarios.MlpFleet.UserOf(shared, "run1", 0), AccessLayer.Bots.Scenarios.MlpFleet.UserOf(shared, "run1", 1));
    }

    [Fact]
    public void The_older_http_port_option_names_the_management_port_on_the_host() =>
        Assert.Equal("http://10.0.0.7:18081/", Parse("mlp-push", "--host", "10.0.0.7", "--http-port", "18081").Management);

    [Fact]
    public void Mlp_push_to_all_without_a_token_secret_is_rejected() =>
        Assert.Contains(Errors("mlp-push", "--push-target", "all"), e => e.Contains("--token-secret", StringComparison.Ordinal));

    [Theory]
    [InlineData("--concurrency", "0")]
    [InlineData("--concurrency", "10001")]
    [InlineData("--management", "10.0.0.5:8081")]
    [InlineData("--management", "ftp://10.0.0.5/")]
    [InlineData("--http-port", "0")]
    [InlineData("--push-target", "some")]
    public void Mlp_option_out_of_range_is_rejected(string option, string value) =>
        Assert.NotEmpty(Errors("mlp-rpc", option, value));

    [Theory]
    [InlineData("mlp-rpc", "--concurrency", "8", "--compress", "--port", "17000")]
    [InlineData("mlp-push", "--push-target", "all", "--token-secret", "k", "--management", "http://127.0.0.1:9000/", "--management-token", "t")]
    public void ToArgs_reproduces_mlp_options(params string[] args)
    {
        var original = Parse(args);
        Assert.Equal(original, Parse([.. original.ToArgs()]));
    }

    [Fact]
    public void Interval_and_its_log_bind_and_reproduce()
    {
        var o = Parse("p2p", "--interval", "60", "--interval-log", "soak/p2p.jsonl");
        Assert.Equal(TimeSpan.FromSeconds(60), o.Interval);
        Assert.Equal("soak/p2p.jsonl", o.IntervalLog);
        Assert.Equal(o, Parse([.. o.ToArgs()]));
        Assert.Equal(TimeSpan.Zero, Parse("p2p").Interval);
    }

    [Fact]
    public void Without_endpoints_the_one_broker_is_host_and_port_and_lost_connections_reconnect()
    {
        var o = Parse("conn", "-H", "broker.local", "-p", "1884");
        Assert.Equal([new BrokerEndpoint("broker.local", 1884)], o.Brokers);
        Assert.True(o.Reconnect);
        Assert.Equal(TimeSpan.FromSeconds(5), o.ReconnectMaxBackoff);
    }

    [Fact]
    public void Endpoints_list_every_broker_in_order_and_reproduce()
    {
        var o = Parse("p2p", "--endpoints", "127.0.0.1:1883, node2:1884,[::1]:1885", "--reconnect-max-backoff", "2", "--no-reconnect");
        Assert.Equal([new BrokerEndpoint("127.0.0.1", 1883), new BrokerEndpoint("node2", 1884), new BrokerEndpoint("::1", 1885)], o.Brokers);
        Assert.Equal(TimeSpan.FromSeconds(2), o.ReconnectMaxBackoff);
        Assert.False(o.Reconnect);
        Assert.Equal(o, Parse([.. o.ToArgs()]));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:0")]
    [InlineData("a:1,b")]
    [InlineData("::1:1883")]
    [InlineData(",")]
    public void Endpoints_that_are_not_host_port_are_refused(string endpoints) =>
        Assert.Contains(Errors("conn", "--endpoints", endpoints), e => e.Contains("--endpoints", StringComparison.Ordinal));

    [Fact]
    public void Endpoints_do_not_apply_to_mlp_scenarios() =>
        Assert.Contains(Errors("mlp-rpc", "--endpoints", "127.0.0.1:7000,127.0.0.1:7001"), e => e.Contains("MQTT scenarios", StringComparison.Ordinal));
}
