using System.Globalization;

namespace AccessLayer.Gateway.Hosting;

/// <summary>
/// How many arrays of one size each per-core partition of <see cref="System.Buffers.ArrayPool{T}.Shared"/> keeps. The
/// runtime's default, 32, is too few for the backend calls of a busy node: SocketsHttpHandler holds a pooled 4 KB buffer
/// per HTTP/2 request until the connection's writer has sent its headers and a pooled 16 KB block per response until it
/// is read, so with a few hundred calls in flight most rents missed the pool and allocated (about 22 KB per MLP call at
/// 256 in flight on 2 cores, docs/benchmarks.md). A partition keeps only arrays that were out at the same time, so the
/// cost is at most what the peak had out, and the pool trims what goes unused.
/// </summary>
internal static class SharedArrayPoolSize
{
    /// <summary>The runtime's setting (read once, when the pool is first used); an operator's value is kept.</summary>
    public const string Variable = "DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION";

    /// <summary>The gateway's default: 256 calls in flight on 2 cores allocate no more than 32 did.</summary>
    public const int DefaultArraysPerPartition = 128;

    /// <summary>Sets <see cref="Variable"/> unless the environment has; first in <c>Main</c>, before anything uses the pool.</summary>
    /// <returns>The value in force from now on.</returns>
    public static string Apply()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } set)
            return set;
        var value = DefaultArraysPerPartition.ToString(CultureInfo.InvariantCulture);
        Environment.SetEnvironmentVariable(Variable, value);
        return value;
    }
}
