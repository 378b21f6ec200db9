using System.Globalization;

namespace AccessLayer.Lab;

/// <summary>
/// The names and addresses of one scenario's network: namespace <c>C</c> (the lab's clients and mock
/// backend) and namespace <c>G</c> (the gateway), joined by three veth pairs: <c>radio</c> (the impaired
/// mobile path), <c>handover</c> (a second mobile network, impaired alike) and <c>mgmt</c> (never impaired:
/// gateway to backend, push API, lab control). Names carry the owning lab process id so a run cleans up
/// only leftovers of dead runs, never another live run's namespaces. Addresses exist only inside the two namespaces.
/// </summary>
internal sealed record LabTopology(int Owner, int Index)
{
    public const string Prefix = "alab";

    public const int MlpPort = 7000;
    public const int HttpPort = 8080;
    public const int ManagementPort = 8081;
    public const int BackendPort = 8090;

    public string ClientNs => $"{Prefix}{Owner}n{Index}c";

    public string GatewayNs => $"{Prefix}{Owner}n{Index}g";

    public string RadioClientIf => Veth('r', 'c');

    public string RadioGatewayIf => Veth('r', 'g');

    public string HandoverClientIf => Veth('h', 'c');

    public string HandoverGatewayIf => Veth('h', 'g');

    public string MgmtClientIf => Veth('m', 'c');

    public string MgmtGatewayIf => Veth('m', 'g');

    public string RadioClientAddress => Address(0, 1);

    public string RadioGatewayAddress => Address(0, 2);

    public string HandoverClientAddress => Address(1, 1);

    public string HandoverGatewayAddress => Address(1, 2);

    public string MgmtClientAddress => Address(2, 1);

    public string MgmtGatewayAddress => Address(2, 2);

    /// <summary>The two mobile interfaces on each side: impairments of the "network" apply to both.</summary>
    public IEnumerable<(string Ns, string Interface)> MobileInterfaces =>
    [
        (ClientNs, RadioClientIf), (GatewayNs, RadioGatewayIf), (ClientNs, HandoverClientIf), (GatewayNs, HandoverGatewayIf),
    ];

    public static bool TryParseNamespace(string name, out int owner)
    {
        owner = 0;
        if (!name.StartsWith(Prefix, StringComparison.Ordinal))
            return false;
        var rest = name[Prefix.Length..];
        var n = rest.IndexOf('n', StringComparison.Ordinal);
        return n > 0 && int.TryParse(rest[..n], NumberStyles.None, CultureInfo.InvariantCulture, out owner);
    }

    // a<owner><kind><index><side>: at most 15 characters (IFNAMSIZ) for owners below 10^7 and 99 scenarios.
    private string Veth(char kind, char side) => $"a{Owner}{kind}{Index}{side}";

    private string Address(int net, int host) => $"10.77.{(Index * 4 + net) % 256}.{host}";
}
