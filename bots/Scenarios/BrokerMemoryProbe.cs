using System.Globalization;

namespace AccessLayer.Bots.Scenarios;

/// <summary>Reads a process's resident set size from /proc/PID/status (Linux).</summary>
public static class BrokerMemoryProbe
{
    /// <summary>VmRSS in KB, or null when the process or the field is not there.</summary>
    public static long? ReadRssKb(int pid)
    {
        var path = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status";
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                if (TryParseRss(line, out var kb))
                {
                    return kb;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return null;
    }

    /// <summary>The summed VmRSS of several processes (a fleet's nodes) in KB; null when there are none or any is unreadable.</summary>
    public static long? ReadRssKb(IReadOnlyList<int> pids)
    {
        ArgumentNullException.ThrowIfNull(pids);
        long sum = 0;
        foreach (var pid in pids)
        {
            if (ReadRssKb(pid) is not { } kb)
            {
                return null;
            }

            sum += kb;
        }

        return pids.Count == 0 ? null : sum;
    }

    /// <summary>Parses a "VmRSS:   12345 kB" line.</summary>
    public static bool TryParseRss(string line, out long kb)
    {
        ArgumentNullException.ThrowIfNull(line);
        kb = 0;
        if (!line.StartsWith("VmRSS:", StringComparison.Ordinal))
        {
            return false;
        }

        var value = line.AsSpan("VmRSS:".Length).Trim();
        var space = value.IndexOf(' ');
        if (space > 0)
        {
            value = value[..space];
        }

        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out kb);
    }
}
