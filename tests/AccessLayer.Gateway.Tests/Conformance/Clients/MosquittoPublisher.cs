using AccessLayer.Gateway.Tests.Conformance.Brokers;
using AccessLayer.Gateway.Tests.Conformance.Harness;

namespace AccessLayer.Gateway.Tests.Conformance.Clients;

/// <summary>Runs <c>mosquitto_pub</c> to completion.</summary>
internal static class MosquittoPublisher
{
    /// <summary>
    /// Runs <c>mosquitto_pub -V version ... args</c> and waits for it to exit 0. With
    /// <paramref name="lines"/>, publishes each line as one message (<c>-l</c>), in order, over
    /// one connection; otherwise args must carry the message (<c>-m</c> / <c>-n</c>).
    /// </summary>
    public static Task<ChildProcess> RunAsync(BrokerFixture broker, ProcessGroup group, string name, string version,
        IEnumerable<string> args, IEnumerable<string>? lines = null) =>
        RunAsync(broker.Host, broker.MqttPort, group, name, version, args, lines);

    /// <summary>The same against any broker (a fleet node).</summary>
    public static async Task<ChildProcess> RunAsync(string host, int port, ProcessGroup group, string name, string version,
        IEnumerable<string> args, IEnumerable<string>? lines = null)
    {
        string[] all = ["-h", host, "-p", $"{port}", "-V", version, "-d", .. args];
        if (lines is not null) all = [.. all, "-l"];
        var process = group.Add(ChildProcess.Start(name, PeerPaths.MosquittoPub, all, new ChildProcessOptions
        {
            Lifetime = Budget.ClientLifetime,
            RedirectStandardInput = true,
        }));
        if (lines is not null)
        {
            foreach (var line in lines) await process.WriteLineAsync(line);
        }
        process.CloseStandardInput();
        var code = await process.WaitForExitAsync(Budget.ClientLifetime);
        if (code != 0) throw new InvalidOperationException($"{name}: mosquitto_pub exited with {code}{Environment.NewLine}{process.TranscriptText()}");
        return process;
    }
}
