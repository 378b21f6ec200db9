namespace AccessLayer.Protocol.Hpack;

/// <summary>How the encoder represents one field.</summary>
public enum HpackIndexing
{
    /// <summary>Apply the encoder's policy (index unless sensitive, listed as not indexed, or too big).</summary>
    Default,

    /// <summary>Indexed if the field is in a table, else literal with incremental indexing (§6.2.1).</summary>
    IncrementalIndexing,

    /// <summary>Indexed if the field is in a table, else literal without indexing (§6.2.2).</summary>
    WithoutIndexing,

    /// <summary>Always literal never indexed (§6.2.3), for sensitive values.</summary>
    NeverIndexed,
}
