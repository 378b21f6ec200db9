using AccessLayer.Gateway.Traffic;
using BenchmarkDotNet.Attributes;

namespace AccessLayer.Benchmarks.Traffic;

/// <summary>
/// What the traffic table adds to one MLP call before the backend is called (docs/traffic.md): the zone of a uid by its
/// shard, blue/green by its colour bucket, after a gray rule that does not match (the common case); the same for a user
/// the gray rule takes; a load-test call; and a call whose zone cookie is checked (one HMAC-SHA256) instead of the
/// lookup. A 3-zone, 2-site table shaped like docs/traffic.md's example. Target: under 1 µs and 0 B per lookup.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class TrafficLookupBenchmarks
{
    private const string Table = """
        version: 7
        sites:
          sh: { city: shanghai, gateways: ["http://10.1.0.1:8080/"] }
          bj: { city: beijing, gateways: ["http://10.2.0.1:8080/"] }
        zones:
          sh-a:
            site: sh
            services:
              orders:
                blue: ["http://127.0.0.1:5001/"]
                green: ["http://127.0.0.1:5002/"]
                greenWeight: 30
                groups:
                  canary: ["http://127.0.0.1:5003/"]
                  shadow: ["http://127.0.0.1:5004/"]
          sh-b: { site: sh, services: { orders: { blue: ["http://127.0.0.1:5011/"], groups: { canary: ["http://127.0.0.1:5013/"] } } } }
          bj-a: { site: bj, services: { orders: { blue: ["http://127.0.0.1:5021/"] } } }
        shards:
          0-39: sh-a
          40-69: sh-b
          70-99: bj-a
        overrides:
          "10086": bj-a
        standby:
          sh-a: sh-b
          bj-a: sh-a
        gray:
          - name: ios-beta
            group: canary
            platform: ios
            appVersion: ">=5.2.0 <6"
        loadTest:
          group: shadow
        """;

    private TrafficTable _table = null!;
    private TrafficSite _site = null!;
    private ZoneCookie _cookies = null!;
    private string _uid = null!;
    private string _cookie = null!;

    [GlobalSetup]
    public void Setup()
    {
        _table = TrafficTableParser.Parse(Table);
        _site = _table.Sites["sh"];
        _cookies = new ZoneCookie(new byte[32]);
        // A user of sh-a, where every group of the table exists.
        for (var i = 0; ; i++)
        {
            _uid = "user-" + i;
            if (_table.ZoneOf(_uid, out _).Name == "sh-a")
                break;
        }

        _cookie = _cookies.Issue(_table.Version, _table.Zones["sh-a"], _uid);
    }

    [Benchmark(Baseline = true)]
    public string? ByShard() => _table.Resolve(new TrafficQuery("orders", _uid, "device-1", "5.1.0", "android"), _site).Group;

    [Benchmark]
    public string? ByShardGrayMatch() => _table.Resolve(new TrafficQuery("orders", _uid, "device-1", "5.3.1", "ios"), _site).Group;

    [Benchmark]
    public string? LoadTest() => _table.Resolve(new TrafficQuery("orders", _uid, "device-1", "5.1.0", "android", LoadTest: true), _site).Group;

    [Benchmark]
    public string? ByCookie()
    {
        var zone = _cookies.TryRead(_cookie, _uid, _table, out var named) ? named : null;
        return _table.Resolve(new TrafficQuery("orders", _uid, "device-1", "5.1.0", "android"), _site, zone).Group;
    }
}
