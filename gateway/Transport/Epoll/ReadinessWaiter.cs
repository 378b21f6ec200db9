using System.Threading.Tasks.Sources;

namespace AccessLayer.Gateway.Transport.Epoll;

/// <summary>
/// What a reader or writer needs only while someone awaits readiness (a pending ReadAsync, a flush the kernel
/// refused): made on the first such wait and kept. A parked connection never makes one, so its reader and writer
/// carry one reference instead of the value-task source's 48 B and the token registration's 16 B.
/// </summary>
internal sealed class ReadinessWaiter
{
    public ManualResetValueTaskSourceCore<byte> Source;
    public CancellationTokenRegistration Registration;
}
