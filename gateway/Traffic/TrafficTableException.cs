namespace AccessLayer.Gateway.Traffic;

/// <summary>A traffic table that cannot be applied; <see cref="Line"/> is the 1-based line of the offending node (0: the whole table).</summary>
internal sealed class TrafficTableException(string message, long line) : Exception(line > 0 ? $"line {line}: {message}" : message)
{
    public long Line { get; } = line;
}
