using System.Globalization;
using System.Text.RegularExpressions;

namespace AccessLayer.Gateway.Tests.Telemetry;

/// <summary>Reads series out of a <c>/metrics</c> page (Prometheus text format).</summary>
internal static partial class PrometheusText
{
    /// <summary>The sum of the series of <paramref name="name"/> (0 when absent).</summary>
    public static double Value(string page, string name) =>
        SeriesLine().Matches(page).Where(m => m.Groups["name"].Value == name).Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    /// <summary>Whether a family of that name is declared at all.</summary>
    public static bool Declares(string page, string name) => page.Contains($"# TYPE {name} ", StringComparison.Ordinal);

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (?<value>\S+)$", RegexOptions.Multiline)]
    private static partial Regex SeriesLine();
}
