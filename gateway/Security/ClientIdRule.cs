namespace AccessLayer.Gateway.Security;

/// <summary>
/// <c>Auth:ClientIdPrefix</c>: binds client ids to identities. A client id must start with the prefix,
/// <c>%u</c> replaced by the client's identity (the ACL's substitution), so one user cannot use the
/// ids, and so the sessions, of another. A client without an identity cannot satisfy a prefix
/// naming <c>%u</c>.
/// </summary>
internal sealed class ClientIdRule
{
    private const string UserToken = "%u";

    private readonly string? _prefix;

    public ClientIdRule(string? prefix) => _prefix = string.IsNullOrEmpty(prefix) ? null : prefix;

    public bool IsEnabled => _prefix is not null;

    /// <summary>The prefix <paramref name="identity"/>'s client ids must start with; null when the prefix names <c>%u</c> and there is no identity.</summary>
    public string? PrefixFor(string? identity)
    {
        if (_prefix is null || !_prefix.Contains(UserToken, StringComparison.Ordinal))
        {
            return _prefix ?? string.Empty;
        }

        return identity is null ? null : _prefix.Replace(UserToken, identity, StringComparison.Ordinal);
    }

    public bool Allows(string clientId, string? identity) =>
        _prefix is null || (PrefixFor(identity) is { } prefix && clientId.StartsWith(prefix, StringComparison.Ordinal));
}
