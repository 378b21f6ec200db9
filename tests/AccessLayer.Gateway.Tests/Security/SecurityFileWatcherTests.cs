using AccessLayer.Gateway.Security;
using AccessLayer.Gateway.Tests.Governance;
using Microsoft.Extensions.DependencyInjection;

namespace AccessLayer.Gateway.Tests.Security;

/// <summary>The file watch: a change is read once the files have been quiet for the debounce, on the fake clock.</summary>
public sealed class SecurityFileWatcherTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("al-watch-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_changed_file_is_reloaded_only_after_it_stayed_unchanged_for_the_debounce()
    {
        var acl = Path.Combine(_directory, "acl");
        File.WriteAllText(acl, "deny * subscribe a");
        await using var gateway = await GovernedGateway.StartAsync($"--Acl:File={acl}", "--SecurityReload:Watch=false", "--SecurityReload:Debounce=00:00:05");
        var watcher = gateway.Services.GetRequiredService<SecurityFileWatcher>();
        Assert.Null(await watcher.PollOnceAsync());

        File.WriteAllText(acl, "deny * subscribe b");
        Assert.Null(await watcher.PollOnceAsync());
        gateway.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Null(await watcher.PollOnceAsync());

        // Written again within the debounce (an editor saving twice): the wait starts over.
        File.WriteAllText(acl, "deny * subscribe bb");
        Assert.Null(await watcher.PollOnceAsync());
        gateway.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Null(await watcher.PollOnceAsync());
        gateway.Time.Advance(TimeSpan.FromSeconds(1));
        var result = await watcher.PollOnceAsync();

        Assert.Equal("reloaded", result?.Acl.Status);
        Assert.Null(await watcher.PollOnceAsync());
        var acls = gateway.Services.GetRequiredService<AclRuleSet>();
        Assert.Equal(SubscriptionAccess.Refused, acls.ForClient("c", null).Classify("bb"));
        Assert.Equal(SubscriptionAccess.Allowed, acls.ForClient("c", null).Classify("a"));
    }

    [Fact]
    public async Task A_file_replaced_by_a_broken_one_keeps_the_old_rules_until_it_is_fixed()
    {
        var acl = Path.Combine(_directory, "acl");
        File.WriteAllText(acl, "deny * subscribe a");
        await using var gateway = await GovernedGateway.StartAsync($"--Acl:File={acl}", "--SecurityReload:Watch=false", "--SecurityReload:Debounce=00:00:01");
        var watcher = gateway.Services.GetRequiredService<SecurityFileWatcher>();
        var acls = gateway.Services.GetRequiredService<AclRuleSet>();
        Assert.Null(await watcher.PollOnceAsync());

        File.WriteAllText(acl, "deny * subscribe b/#/c");
        Assert.Null(await watcher.PollOnceAsync());
        gateway.Time.Advance(TimeSpan.FromSeconds(1));
        var failed = await watcher.PollOnceAsync();
        Assert.Equal("failed", failed?.Acl.Status);
        Assert.Equal(SubscriptionAccess.Refused, acls.ForClient("c", null).Classify("a"));

        File.WriteAllText(acl, "deny * subscribe b");
        Assert.Null(await watcher.PollOnceAsync());
        gateway.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("reloaded", (await watcher.PollOnceAsync())?.Acl.Status);
        Assert.Equal(SubscriptionAccess.Allowed, acls.ForClient("c", null).Classify("a"));
    }
}
