using System.Diagnostics;

namespace AccessLayer.Gateway.Tests.Deploy;

/// <summary>
/// The real <c>kubectl</c> (its built-in kustomize renders offline, no cluster needed). Debian only
/// packages a kubectl too old for these kustomizations (1.20), so test.sh cannot install it: the
/// tests that need it are skipped, saying so, when it is not on the PATH.
/// </summary>
internal static class Kubectl
{
    public static readonly string? Path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
        .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => System.IO.Path.Combine(dir, "kubectl"))
        .FirstOrDefault(File.Exists);

    public const string Missing = "kubectl is not on the PATH: the deploy manifest tests are skipped (Debian's kubernetes-client 1.20 is too old for these kustomizations; they were run with kubectl 1.32, kustomize v5.5)";

    /// <summary><c>kubectl kustomize DIR</c>: the manifests an overlay renders to; throws with kubectl's message when it fails.</summary>
    public static string Kustomize(string directory)
    {
        var start = new ProcessStartInfo(Path ?? throw new InvalidOperationException(Missing), ["kustomize", directory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kubectl kustomize {directory} ran past 60 s");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"kubectl kustomize {directory} failed ({process.ExitCode}): {error.Result}");
        }

        return output.Result;
    }
}

/// <summary>A theory that needs <see cref="Kubectl"/>; skipped with the reason when kubectl is absent.</summary>
internal sealed class KubectlTheoryAttribute : TheoryAttribute
{
    public KubectlTheoryAttribute()
    {
        if (Kubectl.Path is null)
        {
            Skip = Kubectl.Missing;
        }
    }
}

/// <summary>A fact that needs <see cref="Kubectl"/>; skipped with the reason when kubectl is absent.</summary>
internal sealed class KubectlFactAttribute : FactAttribute
{
    public KubectlFactAttribute()
    {
        if (Kubectl.Path is null)
        {
            Skip = Kubectl.Missing;
        }
    }
}
