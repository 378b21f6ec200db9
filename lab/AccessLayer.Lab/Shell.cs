using System.Diagnostics;

namespace AccessLayer.Lab;

/// <summary>Runs the network tools (ip, tc, iptables, sysctl) the lab drives; a failing command throws with its stderr.</summary>
internal static class Shell
{
    public static string Run(string file, params string[] args)
    {
        var (code, output, error) = TryRun(file, args);
        if (code != 0)
            throw new InvalidOperationException($"'{file} {string.Join(' ', args)}' exited with {code}: {error.Trim()}");
        return output;
    }

    public static (int Code, string Output, string Error) TryRun(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(30_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{file} {string.Join(' ', args)}' did not finish within 30 s.");
        }

        return (process.ExitCode, output.Result, error.Result);
    }

    /// <summary>A command inside network namespace <paramref name="ns"/>.</summary>
    public static string InNamespace(string ns, string file, params string[] args) => Run("ip", ["netns", "exec", ns, file, .. args]);

    /// <summary>iptables inside <paramref name="ns"/>, waiting for the xtables lock (other namespaces' rules may be changing).</summary>
    public static void Iptables(string ns, params string[] args) => InNamespace(ns, "iptables", ["-w", "5", .. args]);
}
