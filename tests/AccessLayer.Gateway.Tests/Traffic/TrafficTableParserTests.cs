using AccessLayer.Gateway.Traffic;

namespace AccessLayer.Gateway.Tests.Traffic;

public sealed class TrafficTableParserTests
{
    [Fact]
    public void The_worked_example_compiles_with_every_part()
    {
        var table = TrafficTableParser.Parse(TrafficTables.Example);

        Assert.Equal(7, table.Version);
        Assert.Equal(["bj", "sh"], table.Sites.Keys.Order());
        Assert.Equal("shanghai", table.Sites["sh"].City);
        Assert.Equal(["http://10.1.0.1:8080/"], table.Sites["sh"].Gateways);
        Assert.Equal(100, table.Shards.Count);
        Assert.Equal("sh-a", table.Shards[0].Name);
        Assert.Equal("sh-b", table.Shards[40].Name);
        Assert.Equal("bj-a", table.Shards[99].Name);
        Assert.Equal("bj-a", table.Overrides["10086"].Name);
        Assert.Equal("shadow", table.LoadTestGroup);
        Assert.Equal("canary", Assert.Single(table.Gray).Group);
        Assert.All(table.Zones.Values, z => Assert.Same(z, z.Serving));
        Assert.Equal(["sh-a", "sh-b"], table.Sites["sh"].UpZones.Select(z => z.Name).Order());
    }

    [Fact]
    public void A_services_own_deadline_and_h2c_are_read_and_absent_by_default()
    {
        var table = TrafficTableParser.Parse(TrafficTables.With("greenWeight: 0", "timeoutMs: 250").Replace("        groups:", "        http2: true\n        groups:", StringComparison.Ordinal));

        Assert.Equal(TimeSpan.FromMilliseconds(250), table.Zones["sh-a"].Services["orders"].Timeout);
        Assert.True(table.Zones["sh-a"].Services["orders"].Http2);
        Assert.Null(table.Zones["sh-b"].Services["orders"].Timeout);
        Assert.False(table.Zones["sh-b"].Services["orders"].Http2);
    }

    [Fact]
    public void JSON_is_read_as_well()
    {
        var table = TrafficTableParser.Parse("""
            {"version": 1, "sites": {"s": {}}, "zones": {"z": {"site": "s", "services": {"svc": {"blue": ["http://127.0.0.1:1/"]}}}},
             "shards": {"0-99": "z"}}
            """);

        Assert.Equal("z", table.Shards[55].Name);
    }

    [Theory]
    [InlineData("version: 7", "version: seven", 1, "version: seven is not a whole number")]
    [InlineData("site: sh", "site: gz", 7, "zone sh-a: no site named gz")]
    [InlineData("40-69: sh-b", "40-68: sh-b", 25, "shard 69 has no zone")]
    [InlineData("40-69: sh-b", "39-69: sh-b", 26, "shard 39 is given twice")]
    [InlineData("70-99: bj-a", "70-100: bj-a", 27, "70-100 is not a range")]
    [InlineData("\"10086\": bj-a", "\"10086\": nowhere", 29, "override 10086: no zone named nowhere")]
    [InlineData("greenWeight: 0", "greenWeight: 101", 12, "greenWeight: 101 is not a whole number from 0 to 100")]
    [InlineData("greenWeight: 0", "timeoutMs: 0", 12, "timeoutMs: 0 is not a whole number from 1 to 3600000")]
    [InlineData("greenWeight: 0", "http2: yes", 12, "http2 is true or false")]
    [InlineData("blue: [\"http://127.0.0.1:5001/\"]", "blue: [\"ftp://127.0.0.1:5001/\"]", 10, "is not an http(s) URL")]
    [InlineData("group: canary", "group: beta", 35, "gray rule ios-beta: no zone has a group named beta")]
    [InlineData("appVersion: \">=5.2.0 <6\"", "appVersion: \"newest\"", 37, "appVersion newest is not a range")]
    [InlineData("platform: ios", "platfrom: ios", 36, "unknown key platfrom")]
    [InlineData("sh: { city: shanghai", "sh: { city: shanghai, http2: yes }", 3, "site sh: http2 is true or false")]
    public void A_bad_table_is_refused_naming_the_line(string lineStart, string replacement, int line, string message)
    {
        var error = Assert.Throws<TrafficTableException>(() => TrafficTableParser.Parse(TrafficTables.With(lineStart, replacement)));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(line, error.Line);
    }

    [Fact]
    public void A_syntax_error_names_its_line()
    {
        var error = Assert.Throws<TrafficTableException>(() => TrafficTableParser.Parse("version: 1\nsites: {a: [\n"));

        Assert.True(error.Line >= 2, error.Message);
    }

    [Fact]
    public void Down_zones_are_served_by_their_standby_followed_until_one_is_up()
    {
        var table = TrafficTableParser.Parse(TrafficTables.Plus("down: [\"zone:sh-a\", \"site:bj\"]"));

        Assert.True(table.Zones["sh-a"].Down);
        Assert.Equal("sh-b", table.Zones["sh-a"].Serving.Name);
        Assert.Equal("sh-b", table.Zones["bj-a"].Serving.Name); // bj-a -> sh-a (down) -> sh-b
        Assert.Equal(["sh-b"], table.Sites["sh"].UpZones.Select(z => z.Name));
        Assert.Empty(table.Sites["bj"].UpZones);
    }

    [Fact]
    public void A_city_going_down_takes_its_sites_zones_down()
    {
        var table = TrafficTableParser.Parse(TrafficTables.Plus("down: [\"city:beijing\"]"));

        Assert.True(table.Zones["bj-a"].Down);
        Assert.False(table.Zones["sh-a"].Down);
        Assert.Equal("sh-a", table.Zones["bj-a"].Serving.Name);
    }

    [Fact]
    public void A_down_zone_that_no_up_standby_serves_is_refused()
    {
        var error = Assert.Throws<TrafficTableException>(() => TrafficTableParser.Parse(TrafficTables.Plus("down: [\"city:shanghai\"]")));

        Assert.Contains("is down and no standby that is up serves it", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("down: [\"zone:nowhere\"]", "down: no zone named nowhere")]
    [InlineData("down: [\"planet:earth\"]", "is not zone:NAME, site:NAME or city:NAME")]
    public void Down_entries_must_name_something_that_exists(string section, string message)
    {
        var error = Assert.Throws<TrafficTableException>(() => TrafficTableParser.Parse(TrafficTables.Plus(section)));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(40, error.Line);
    }

    [Fact]
    public void A_gray_rule_without_a_condition_is_refused()
    {
        var yaml = TrafficTables.Example.Replace("    platform: ios\n", string.Empty, StringComparison.Ordinal)
            .Replace("    appVersion: \">=5.2.0 <6\"\n", string.Empty, StringComparison.Ordinal);

        var error = Assert.Throws<TrafficTableException>(() => TrafficTableParser.Parse(yaml));

        Assert.Contains("gray rule ios-beta has no condition", error.Message, StringComparison.Ordinal);
    }

    private const string Uplinks = """
        uplinks:
          - name: telemetry
            topic: "devices/+/telemetry"
            service: orders
          - name: events
            topic: "devices/#"
            service: orders
            operation: ingest-events
            mode: forward-and-publish
            requireUid: true
            batchSize: 500
            batchBytes: 65536
            lingerMs: 50
        """;

    [Fact]
    public void Uplink_rules_are_read_in_order_with_their_defaults()
    {
        var table = TrafficTableParser.Parse(TrafficTables.Plus(Uplinks));

        Assert.Equal(["telemetry", "events"], table.Uplinks.Select(r => r.Name));
        var telemetry = table.Uplinks[0];
        Assert.Equal(("devices/+/telemetry", "orders", "telemetry", false, false), (telemetry.Filter, telemetry.Service, telemetry.Operation, telemetry.AlsoPublish, telemetry.RequireUid));
        var events = table.Uplinks[1];
        Assert.Equal(("ingest-events", true, true), (events.Operation, events.AlsoPublish, events.RequireUid));
        // A rule without batch settings leaves them to Traffic:Uplink*; one with them has its own.
        Assert.Same(TrafficUplinkBatching.Defaults, telemetry.Batching);
        Assert.Equal(new TrafficUplinkBatching(500, 65536, TimeSpan.FromMilliseconds(50)), events.Batching);
        // First match wins: the telemetry topic is the first rule's even though devices/# matches it too.
        Assert.Same(telemetry, table.UplinkFor("devices/m1/telemetry"));
        Assert.Same(events, table.UplinkFor("devices/m1/door"));
        Assert.Null(table.UplinkFor("other/m1"));
    }

    [Theory]
    [InlineData("topic: \"devices/+/telemetry\"", "topic: \"devices/#/telemetry\"", "topic devices/#/telemetry is not an MQTT topic filter")]
    [InlineData("topic: \"devices/+/telemetry\"", "topic: \"$share/g/devices/+\"", "is not an MQTT topic filter")]
    [InlineData("service: orders", "service: billing", "uplink rule events: no zone has a service named billing")]
    [InlineData("mode: forward-and-publish", "mode: publish", "mode publish is forward or forward-and-publish")]
    [InlineData("operation: ingest-events", "operation: a/b", "operation a/b is one path segment")]
    [InlineData("requireUid: true", "requireUid: maybe", "requireUid is true or false")]
    [InlineData("mode: forward-and-publish", "modes: forward", "unknown key modes")]
    [InlineData("- name: events", "- name: telemetry", "uplink rule telemetry is given twice")]
    [InlineData("batchSize: 500", "batchSize: 0", "uplink rule events batchSize: 0 is not a whole number from 1 to 10000")]
    [InlineData("batchSize: 500", "batchSize: 10001", "uplink rule events batchSize: 10001 is not a whole number from 1 to 10000")]
    [InlineData("batchSize: 500", "batchSize: many", "uplink rule events batchSize: many is not a whole number")]
    [InlineData("batchBytes: 65536", "batchBytes: 100", "uplink rule events batchBytes: 100 is not a whole number from 1024 to 67108864")]
    [InlineData("lingerMs: 50", "lingerMs: -1", "uplink rule events lingerMs: -1 is not a whole number from 0 to 10000")]
    [InlineData("lingerMs: 50", "lingerMs: 10001", "uplink rule events lingerMs: 10001 is not a whole number from 0 to 10000")]
    public void A_bad_uplink_rule_refuses_the_table_naming_the_line(string lineStart, string replacement, string message)
    {
        var lines = TrafficTables.Plus(Uplinks).Split('\n');
        var index = Array.FindLastIndex(lines, l => l.TrimStart().StartsWith(lineStart, StringComparison.Ordinal));
        Assert.True(index >= 0, lineStart);
        lines[index] = lines[index][..(lines[index].Length - lines[index].TrimStart().Length)] + replacement;

        var error = Assert.Throws<TrafficTableException>(() => TrafficTableParser.Parse(string.Join('\n', lines)));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(index + 1, error.Line);
    }
}
