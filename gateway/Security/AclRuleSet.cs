using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Security;

/// <summary>
/// The node's ACL (rules from <c>Acl:Rules</c>, then <c>Acl:File</c>), compiled per client at
/// CONNECT into a <see cref="ClientAcl"/> holding only the rules that apply to that client,
/// with <c>%c</c> and <c>%u</c> already substituted. <see cref="Reload"/> reads the file again
/// and swaps the rules in one step; a file that does not parse leaves the old rules in place.
/// </summary>
internal sealed class AclRuleSet
{
    private readonly AclOptions? _options;
    private readonly AclPermission _default;
    private volatile AclRule[] _rules;
    private byte[]? _fileDigest;

    public AclRuleSet(IOptions<AclOptions> options)
    {
        _options = options.Value;
        _default = _options.Default;
        (_rules, _fileDigest) = Load(_options);
    }

    public AclRuleSet(IReadOnlyList<AclRule> rules, AclPermission defaultPermission)
    {
        _rules = [.. rules];
        _default = defaultPermission;
    }

    public int Count => _rules.Length;

    /// <summary>The ACL file, when one is configured (what a reload reads).</summary>
    public string? FilePath => string.IsNullOrWhiteSpace(_options?.File) ? null : _options.File;

    /// <summary>
    /// Reads <c>Acl:File</c> again. True when its content changed and the new rules are in
    /// force, false when it is unchanged (or none is configured); throws
    /// <see cref="InvalidOperationException"/> naming the bad line, keeping the old rules.
    /// </summary>
    public bool Reload()
    {
        if (_options is null || FilePath is null)
        {
            return false;
        }

        lock (_options)
        {
            var (rules, digest) = Load(_options);
            if (_fileDigest is not null && digest is not null && _fileDigest.AsSpan().SequenceEqual(digest))
            {
                return false;
            }

            _fileDigest = digest;
            _rules = rules;
            return true;
        }
    }

    public ClientAcl ForClient(string clientId, string? identity)
    {
        var rules = _rules;
        if (rules.Length == 0)
        {
            return _default == AclPermission.Allow ? ClientAcl.AllowAll : ClientAcl.DenyAll;
        }

        var compiled = new List<ClientAcl.CompiledRule>();
        foreach (var rule in rules)
        {
            if (!rule.AppliesTo(clientId, identity))
            {
                continue;
            }

            var topic = rule.Topic;
            if (!Substitute(ref topic, "%c", clientId) || !Substitute(ref topic, "%u", identity))
            {
                // A rule about "this client's topics" cannot apply to a client with no usable name.
                continue;
            }

            compiled.Add(new ClientAcl.CompiledRule(rule.Permission, rule.Action, topic.Split('/')));
        }

        return new ClientAcl([.. compiled], _default);
    }

    private static bool Substitute(ref string topic, string token, string? value)
    {
        if (!topic.Contains(token, StringComparison.Ordinal))
        {
            return true;
        }

        // A name holding a separator or wildcard would widen the rule beyond its own topics.
        if (string.IsNullOrEmpty(value) || value.AsSpan().IndexOfAny('/', '+', '#') >= 0)
        {
            return false;
        }

        topic = topic.Replace(token, value, StringComparison.Ordinal);
        return true;
    }

    private static (AclRule[] Rules, byte[]? FileDigest) Load(AclOptions options)
    {
        var rules = new List<AclRule>();
        byte[]? digest = null;
        foreach (var line in options.Rules)
        {
            rules.Add(ParseOrThrow(line, "Acl:Rules"));
        }

        if (!string.IsNullOrWhiteSpace(options.File))
        {
            string[] lines;
            try
            {
                var bytes = File.ReadAllBytes(options.File);
                digest = System.Security.Cryptography.SHA256.HashData(bytes);
                lines = System.Text.Encoding.UTF8.GetString(bytes).TrimStart('\uFEFF').Split('\n');
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"Acl:File: cannot read '{options.File}': {ex.Message}", ex);
            }

            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (line.Length > 0 && line[0] != '#')
                {
                    rules.Add(ParseOrThrow(line, $"Acl:File line {i + 1}"));
                }
            }
        }

        return ([.. rules], digest);
    }

    private static AclRule ParseOrThrow(string line, string where)
    {
        try
        {
            return AclRule.Parse(line);
        }
        catch (FormatException ex)
        {
            throw new InvalidOperationException($"{where}: {ex.Message}", ex);
        }
    }
}
