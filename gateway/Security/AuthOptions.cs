namespace AccessLayer.Gateway.Security;

/// <summary>The <c>Auth</c> section: where credentials come from. With none configured (and no <c>Mqtt:Users</c>) every client is accepted.</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Auth";

    /// <summary>Password file: one <c>user:$pbkdf2-sha256$iterations$salt$hash</c> a line (see <c>hash-password</c>).</summary>
    public string? PasswordFile { get; set; }

    /// <summary>HMAC keys for device tokens (the MLP token format), by key id, base64: <c>Auth:TokenKeys:1=...</c>.</summary>
    public Dictionary<string, string> TokenKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Whether a token's device id must equal the CONNECT client id.</summary>
    public bool TokenBindsClientId { get; set; } = true;

    /// <summary>
    /// Binds client ids to identities: a client id must start with this, where <c>%u</c> is the client's user (identity),
    /// e.g. <c>%u-</c> lets alice use <c>alice-phone</c> but not <c>bob-phone</c> (CONNACK 0x85 / return code 2 otherwise).
    /// Clients without an identity cannot satisfy a prefix naming <c>%u</c>. Empty (the default) sets no rule.
    /// </summary>
    public string? ClientIdPrefix { get; set; }
}
