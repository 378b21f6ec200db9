namespace AccessLayer.Gateway.Tests.Conformance.Harness;

/// <summary>Time bounds for real peers on loopback: generous for a loaded 2-core CI box, yet no test can hang.</summary>
internal static class Budget
{
    /// <summary>Any single wait for something a peer should do promptly.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    /// <summary>A client process is killed after this, whatever its test does.</summary>
    public static readonly TimeSpan ClientLifetime = TimeSpan.FromSeconds(15);

    /// <summary>How long a negative observation ("nothing more arrives") watches when no barrier message can prove it.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(500);
}
