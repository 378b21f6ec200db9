using System.Text;
using AccessLayer.Gateway.Security;

namespace AccessLayer.Gateway.Tests.Security;

public sealed class PasswordFileTests
{
    [Fact]
    public void Verify_checks_each_user_against_its_own_hash_and_remembers_successes()
    {
        var file = PasswordFile.Parse(["# users", "", "alice:" + PasswordHash.Create("a-pass", 500), "bob:" + PasswordHash.Create("b-pass", 500)]);
        Assert.Equal(2, file.Count);
        Assert.True(file.Verify("alice", Encoding.UTF8.GetBytes("a-pass")));
        Assert.True(file.Verify("alice", Encoding.UTF8.GetBytes("a-pass")));
        Assert.False(file.Verify("alice", Encoding.UTF8.GetBytes("b-pass")));
        Assert.True(file.Verify("bob", Encoding.UTF8.GetBytes("b-pass")));
        Assert.False(file.Verify("carol", Encoding.UTF8.GetBytes("a-pass")));
    }

    [Fact]
    public void A_line_without_a_hash_names_its_number()
    {
        var error = Assert.Throws<InvalidOperationException>(() => PasswordFile.Parse(["alice:" + PasswordHash.Create("x", 10), "bob:plaintext"]));
        Assert.Contains("line 2", error.Message, StringComparison.Ordinal);
    }
}
