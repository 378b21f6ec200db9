namespace AccessLayer.Gateway.Security;

/// <summary>The <c>Acl</c> section: topic authorization. Rules from <see cref="Rules"/> come first, then those of <see cref="File"/>; the first match wins.</summary>
public sealed class AclOptions
{
    public const string SectionName = "Acl";

    /// <summary>ACL file, one rule a line: <c>allow|deny  *|user:NAME|client:ID|anonymous  publish|subscribe|all  TOPIC</c>.</summary>
    public string? File { get; set; }

    /// <summary>Rules in the same syntax, from configuration (<c>Acl:Rules:0=...</c>).</summary>
    public List<string> Rules { get; set; } = [];

    /// <summary>The decision when no rule matches.</summary>
    public AclPermission Default { get; set; } = AclPermission.Allow;
}

public enum AclPermission
{
    Allow,
    Deny,
}
