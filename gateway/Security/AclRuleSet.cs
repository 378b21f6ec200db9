using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Security;

/// <summary>
/// The node's ACL (rules from <c>Acl:Rules</c>, then <c>Acl:File</c>), compiled per client at
/// CONNECT into a <see cref="ClientAcl"/> holding only the rules that apply to that client,
/// with <c>%c</c> and <c>%u</c> already substituted.
/// </summary>
internal sealed class AclRuleSet
{
    private readonly AclRule[] _rules;
    private readonly AclPermission _default;

    public AclRuleSet(IOptions<AclOptions> options)
        : this(Load(options.Value), options.Value.Default)
    {
    }

    public AclRuleSet(IReadOnlyList<AclRule> rules, AclPermission defaultPermission)
    {
        _rules = [.. rules];
        _default = defaultPermission;
    }

    public int Count => _rules.Length;

    public ClientAcl ForClient(string clientId, string? identity)
    {
        if (_rules.Length == 0)
        {
            return _default == AclPermission.Allow ? ClientAcl.AllowAll : ClientAcl.DenyAll;
        }

        var compiled = new List<ClientAcl.CompiledRule>();
        foreach (var rule in _rules)
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

    private static List<AclRule> Load(AclOptions options)
    {
        var rules = new List<AclRule>();
        foreach (var line in options.Rules)
        {
            rules.Add(ParseOrThrow(line, "Acl:Rules"));
        }

        if (!string.IsNullOrWhiteSpace(options.File))
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(options.File);
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

        return rules;
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
