using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Mqtt;

namespace AccessLayer.Gateway.Security;

/// <summary>What a reload did with one kind of file.</summary>
internal sealed record ReloadOutcome(string Status, string? Error = null)
{
    public static readonly ReloadOutcome NotConfigured = new("not_configured");
    public static readonly ReloadOutcome Unchanged = new("unchanged");
    public static readonly ReloadOutcome Reloaded = new("reloaded");
}

/// <summary>What one reload did: <c>reloaded</c>, <c>unchanged</c>, <c>not_configured</c> or <c>failed</c> (with the error; the old one stays) for each kind of file.</summary>
internal sealed record SecurityReloadResult(ReloadOutcome Acl, ReloadOutcome PasswordFile, ReloadOutcome Tls)
{
    public bool Failed => Acl.Error is not null || PasswordFile.Error is not null || Tls.Error is not null;
}

/// <summary>
/// Reloads the ACL file, the password file and the TLS certificate files, each on its own: a
/// file that does not load keeps what was loaded before and the others still reload. No
/// connection is closed. New ACL rules apply to the next SUBSCRIBE and PUBLISH of every
/// connected client and to its deliveries; new users to the next CONNECT; new certificates to
/// the next TLS handshake. Called by <see cref="SecurityFileWatcher"/> and the admin API.
/// </summary>
internal sealed class SecurityReloader(AclRuleSet acl, PasswordFileSource passwords, TlsCertificateStore tls, MqttBroker broker, ILogger<SecurityReloader> logger) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public AclRuleSet Acl => acl;

    public PasswordFileSource Passwords => passwords;

    public TlsCertificateStore Tls => tls;

    /// <param name="trigger">Who asked (<c>admin</c>, <c>watch</c>), for the log.</param>
    public async Task<SecurityReloadResult> ReloadAsync(string trigger)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var aclOutcome = Run("acl", acl.FilePath is not null, acl.Reload, trigger);
            if (aclOutcome == ReloadOutcome.Reloaded)
            {
                var clients = await broker.ApplyAclAsync(acl).ConfigureAwait(false);
                GovernanceLog.AclApplied(logger, acl.Count, clients);
            }

            var passwordOutcome = Run("password_file", passwords.Path is not null, passwords.Reload, trigger);
            var tlsOutcome = Run("tls", tls.Current is not null, tls.Reload, trigger);
            return new SecurityReloadResult(aclOutcome, passwordOutcome, tlsOutcome);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private ReloadOutcome Run(string what, bool configured, Func<bool> reload, string trigger)
    {
        if (!configured)
        {
            return ReloadOutcome.NotConfigured;
        }

        try
        {
            if (!reload())
            {
                return ReloadOutcome.Unchanged;
            }

            GovernanceLog.SecurityReloaded(logger, what, trigger);
            return ReloadOutcome.Reloaded;
        }
        catch (InvalidOperationException ex)
        {
            GovernanceLog.SecurityReloadFailed(logger, what, trigger, ex.Message);
            return new ReloadOutcome("failed", ex.Message);
        }
    }
}
