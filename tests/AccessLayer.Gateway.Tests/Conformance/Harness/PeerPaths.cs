namespace AccessLayer.Gateway.Tests.Conformance.Harness;

/// <summary>Where the real peers live: Debian's mosquitto, paho for Debian's python, our scripts.</summary>
internal static class PeerPaths
{
    public const string Mosquitto = "/usr/sbin/mosquitto";
    public const string MosquittoSub = "/usr/bin/mosquitto_sub";
    public const string MosquittoPub = "/usr/bin/mosquitto_pub";

    /// <summary>Forces line-buffered stdout on C programs whose debug output is not flushed.</summary>
    public const string Stdbuf = "/usr/bin/stdbuf";

    /// <summary>Debian's python, which has python3-paho-mqtt; a pyenv python on PATH may not.</summary>
    public const string Python = "/usr/bin/python3";

    public static string Node => "node";

    private static readonly Lazy<string> RepoRootLazy = new(FindRepoRoot);

    public static string RepoRoot => RepoRootLazy.Value;

    public static string JsAgent => Path.Combine(RepoRoot, "tests", "js", "agent.mjs");

    public static string PythonAgent => Path.Combine(RepoRoot, "tests", "python", "agent.py");

    public static string PythonQos2Burst => Path.Combine(RepoRoot, "tests", "python", "qos2_burst.py");

    public static string PythonTlsResume => Path.Combine(RepoRoot, "tests", "python", "tls_resume.py");

    /// <summary>Fails with the fix when the mqtt.js dependency is not installed.</summary>
    public static void RequireMqttJs()
    {
        var module = Path.Combine(RepoRoot, "tests", "js", "node_modules", "mqtt", "package.json");
        if (!File.Exists(module))
            throw new InvalidOperationException($"mqtt.js is not installed: run `npm ci` in {Path.Combine(RepoRoot, "tests", "js")} (test.sh does)");
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "tests", "js", "package.json"))) return dir.FullName;
        }
        throw new InvalidOperationException($"no repository root (tests/js/package.json) above {AppContext.BaseDirectory}");
    }
}
