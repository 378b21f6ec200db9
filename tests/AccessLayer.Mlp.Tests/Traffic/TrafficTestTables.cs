using AccessLayer.Gateway.Traffic;

namespace AccessLayer.Mlp.Tests.Traffic;

/// <summary>Tables and users for the traffic tests: uids picked by the shard they hash to, files the gateway watches.</summary>
internal static class TrafficTestTables
{
    public const string Secret = "test-traffic-secret-0123456789";

    /// <summary>A uid whose shard is within [<paramref name="from"/>, <paramref name="to"/>] (the shard function of the table), skipping <paramref name="skip"/> earlier matches.</summary>
    public static string UidInShards(int from, int to, int skip = 0)
    {
        for (var i = 0; ; i++)
        {
            var uid = "user-" + i;
            var shard = UidShards.Of(uid);
            if (shard >= from && shard <= to && skip-- == 0)
                return uid;
        }
    }

    /// <summary>One site <c>sh</c>, zones sh-a (shards 0-49) and sh-b (50-99), service <c>orders</c>; sh-a also has green, canary and shadow.</summary>
    public static string OneSite(long version, LabelledBackend blueA, LabelledBackend greenA, LabelledBackend canaryA, LabelledBackend shadowA, LabelledBackend blueB, int greenWeight = 0, string down = "[]") => $$"""
        version: {{version}}
        sites:
          sh: { city: shanghai }
        zones:
          sh-a:
            site: sh
            services:
              orders:
                blue: ["{{blueA.Url}}"]
                green: ["{{greenA.Url}}"]
                greenWeight: {{greenWeight}}
                groups:
                  canary: ["{{canaryA.Url}}"]
                  shadow: ["{{shadowA.Url}}"]
          sh-b:
            site: sh
            services:
              orders: { blue: ["{{blueB.Url}}"] }
        shards:
          0-49: sh-a
          50-99: sh-b
        down: {{down}}
        standby:
          sh-a: sh-b
          sh-b: sh-a
        gray:
          - name: ios-beta
            group: canary
            platform: ios
            appVersion: ">=5.2.0 <6"
        loadTest:
          group: shadow
        """;

    /// <summary>A temporary table file, deleted on dispose.</summary>
    public sealed class File : IDisposable
    {
        public File(string text)
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "traffic-" + Guid.NewGuid().ToString("N") + ".yaml");
            System.IO.File.WriteAllText(Path, text);
        }

        public string Path { get; }

        public void Write(string text) => System.IO.File.WriteAllText(Path, text);

        public void Dispose() => System.IO.File.Delete(Path);
    }

    public static string[] Settings(File file, string site = "sh") =>
        [$"--Traffic:TableFile={file.Path}", $"--Traffic:Site={site}", $"--Traffic:Secret={Secret}"];
}
