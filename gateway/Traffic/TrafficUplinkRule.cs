namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// An MQTT uplink rule of the table (docs/traffic.md, "MQTT uplinks"): PUBLISHes whose topic matches <see cref="Filter"/>
/// are sent in batches over HTTP to the endpoint group of <see cref="Service"/> in the publisher's zone
/// (<c>POST {endpoint}/{operation}</c>), and with <see cref="AlsoPublish"/> fanned out to subscribers as well.
/// </summary>
internal sealed class TrafficUplinkRule
{
    private readonly string[] _levels;

    public TrafficUplinkRule(string name, string filter, string service, string operation, bool alsoPublish, bool requireUid, int line)
    {
        Name = name;
        Filter = filter;
        Service = service;
        Operation = operation;
        AlsoPublish = alsoPublish;
        RequireUid = requireUid;
        Line = line;
        _levels = filter.Split('/');
    }

    public string Name { get; }

    /// <summary>An MQTT topic filter (<c>+</c> one level, <c>#</c> the rest, last).</summary>
    public string Filter { get; }

    public string Service { get; }

    /// <summary>The path under each endpoint the batches are posted to.</summary>
    public string Operation { get; }

    /// <summary><c>mode: forward-and-publish</c>: the broker's usual fan-out happens too; <c>forward</c> (the default): the backend only.</summary>
    public bool AlsoPublish { get; }

    /// <summary>A publisher without an authenticated uid is refused (else it goes to an up zone of this site, as MLP calls of no user).</summary>
    public bool RequireUid { get; }

    public int Line { get; }

    /// <summary>The rule's own batch size, bytes and linger (<c>batchSize</c>, <c>batchBytes</c>, <c>lingerMs</c>); what it leaves out is <c>Traffic:Uplink*</c>'s.</summary>
    public TrafficUplinkBatching Batching { get; init; } = TrafficUplinkBatching.Defaults;

    /// <summary>Whether <paramref name="topic"/> matches the filter, MQTT's way (<c>a/#</c> matches <c>a</c>); a filter that starts with a wildcard matches no <c>$</c> topic. Allocates nothing.</summary>
    public bool Matches(string topic)
    {
        if (topic.Length > 0 && topic[0] == '$' && _levels[0] is "+" or "#")
        {
            return false;
        }

        var position = 0;
        foreach (var level in _levels)
        {
            if (level == "#")
            {
                return true;
            }

            if (position > topic.Length)
            {
                // The topic has fewer levels than the filter.
                return false;
            }

            var end = topic.IndexOf('/', position);
            if (end < 0)
            {
                end = topic.Length;
            }

            if (level != "+" && !topic.AsSpan(position, end - position).SequenceEqual(level))
            {
                return false;
            }

            position = end + 1;
        }

        // Every level of the topic consumed (past its end), none left over.
        return position > topic.Length;
    }
}

/// <summary>
/// An uplink rule's batch settings from the table; null: the gateway's <c>Traffic:UplinkBatchSize</c>,
/// <c>Traffic:UplinkBatchBytes</c> or <c>Traffic:UplinkLinger</c>.
/// </summary>
internal sealed record TrafficUplinkBatching(int? BatchSize, int? BatchBytes, TimeSpan? Linger)
{
    public const int MaxBatchSize = 10_000;
    public const int MinBatchBytes = 1024;
    public const int MaxBatchBytes = 64 * 1024 * 1024;
    public const long MaxLingerMs = 10_000;

    public static TrafficUplinkBatching Defaults { get; } = new(null, null, null);

    /// <summary>The settings given; <see cref="Defaults"/> when none is.</summary>
    public static TrafficUplinkBatching Of(int? batchSize, int? batchBytes, TimeSpan? linger) =>
        batchSize is null && batchBytes is null && linger is null ? Defaults : new(batchSize, batchBytes, linger);

    public int SizeOr(TrafficOptions options) => BatchSize ?? options.UplinkBatchSize;

    public int BytesOr(TrafficOptions options) => BatchBytes ?? options.UplinkBatchBytes;

    public TimeSpan LingerOr(TrafficOptions options) => Linger ?? options.UplinkLinger;
}
