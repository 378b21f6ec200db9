namespace AccessLayer.Gateway.Tests.Traffic;

/// <summary>The worked example of docs/traffic.md, and small variations of it.</summary>
internal static class TrafficTables
{
    public const string Example = """
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
                greenWeight: 0
                groups:
                  canary: ["http://127.0.0.1:5003/"]
                  shadow: ["http://127.0.0.1:5004/"]
          sh-b:
            site: sh
            services:
              orders: { blue: ["http://127.0.0.1:5011/"] }
          bj-a:
            site: bj
            services:
              orders: { blue: ["http://127.0.0.1:5021/"] }
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

    /// <summary>The example with one line replaced (matched by its start, indentation kept).</summary>
    public static string With(string lineStart, string replacement)
    {
        var lines = Example.Split('\n');
        var index = Array.FindIndex(lines, l => l.TrimStart().StartsWith(lineStart, StringComparison.Ordinal));
        Assert.True(index >= 0, $"no line starts with {lineStart}");
        lines[index] = new string(' ', lines[index].Length - lines[index].TrimStart().Length) + replacement;
        return string.Join('\n', lines);
    }

    /// <summary>The example with a top-level section added at the end.</summary>
    public static string Plus(string section) => Example + "\n" + section;
}
