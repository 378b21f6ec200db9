using System.Globalization;

namespace AccessLayer.Bots.Cli;

/// <summary>One broker of a run, <c>host:port</c> (<c>[v6]:port</c> for an IPv6 literal).</summary>
public sealed record BrokerEndpoint(string Host, int Port)
{
    /// <summary>Parses a comma-separated list (<c>--endpoints h1:p1,h2:p2</c>); false with the offending entry otherwise.</summary>
    public static bool TryParseList(string text, out IReadOnlyList<BrokerEndpoint> endpoints, out string? invalid)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parsed = new List<BrokerEndpoint>();
        endpoints = parsed;
        invalid = null;
        foreach (var entry in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!TryParse(entry, out var endpoint))
            {
                invalid = entry;
                return false;
            }

            parsed.Add(endpoint);
        }

        return parsed.Count > 0;
    }

    public static bool TryParse(string text, out BrokerEndpoint endpoint)
    {
        endpoint = new BrokerEndpoint("", 0);
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            return false;
        }

        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            return false; // an IPv6 literal needs brackets, or the port is ambiguous
        }

        if (host.Length == 0)
        {
            return false;
        }

        endpoint = new BrokerEndpoint(host, port);
        return true;
    }

    public override string ToString() =>
        Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}" : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";
}
