using System.Reflection.PortableExecutable;

namespace AccessLayer.Gateway.Tests.Deploy;

/// <summary>
/// Whether an assembly file carries ReadyToRun code (precompiled by crossgen2): its CLI header has the IL-library flag
/// and names a managed native header. bench/fleet/fleet.sh (<c>is_ready_to_run</c>) reads the same two fields in python.
/// </summary>
internal static class ReadyToRunImage
{
    public static bool Is(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new PEReader(stream);
        var cli = reader.PEHeaders.CorHeader;
        return cli is not null && (cli.Flags & CorFlags.ILLibrary) != 0 && cli.ManagedNativeHeaderDirectory.RelativeVirtualAddress != 0;
    }
}
