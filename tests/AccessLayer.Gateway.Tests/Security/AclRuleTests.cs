using AccessLayer.Gateway.Security;

namespace AccessLayer.Gateway.Tests.Security;

public sealed class AclRuleTests
{
    [Fact]
    public void Parse_reads_permission_subject_action_and_topic()
    {
        var rule = AclRule.Parse("  deny   user:bob   subscribe   rooms/%u/+/with spaces ");
        Assert.Equal(AclPermission.Deny, rule.Permission);
        Assert.Equal(AclSubjectKind.User, rule.Subject);
        Assert.Equal("bob", rule.SubjectValue);
        Assert.Equal(AclAction.Subscribe, rule.Action);
        Assert.Equal("rooms/%u/+/with spaces", rule.Topic);
    }

    [Theory]
    [InlineData("allow * publish")]
    [InlineData("permit * publish a")]
    [InlineData("allow someone publish a")]
    [InlineData("allow * read a")]
    [InlineData("allow * publish a/#/b")]
    [InlineData("allow * publish a+")]
    [InlineData("allow user: publish a")]
    public void Parse_rejects_malformed_rules(string line)
    {
        Assert.Throws<FormatException>(() => AclRule.Parse(line));
    }

    [Fact]
    public void A_bad_rule_in_the_file_stops_the_gateway_naming_the_line()
    {
        var file = Path.GetTempFileName();
        File.WriteAllLines(file, ["# comment", "allow * all a/#", "allow * nonsense b"]);
        try
        {
            var error = Assert.Throws<InvalidOperationException>(() => new AclRuleSet(Microsoft.Extensions.Options.Options.Create(new AclOptions { File = file })));
            Assert.Contains("line 3", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
