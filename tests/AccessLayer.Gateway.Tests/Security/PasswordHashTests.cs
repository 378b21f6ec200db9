using System.Text;
using AccessLayer.Gateway.Security;

namespace AccessLayer.Gateway.Tests.Security;

public sealed class PasswordHashTests
{
    [Fact]
    public void Create_then_verify_accepts_the_password_and_nothing_else()
    {
        var text = PasswordHash.Create("correct horse", iterations: 1000);
        Assert.StartsWith("$pbkdf2-sha256$1000$", text, StringComparison.Ordinal);
        Assert.True(PasswordHash.TryParse(text, out var iterations, out var salt, out var hash));
        Assert.Equal(1000, iterations);
        Assert.True(PasswordHash.Verify(Encoding.UTF8.GetBytes("correct horse"), iterations, salt, hash));
        Assert.False(PasswordHash.Verify(Encoding.UTF8.GetBytes("correct horsE"), iterations, salt, hash));
    }

    [Fact]
    public void Each_hash_has_its_own_salt()
    {
        Assert.NotEqual(PasswordHash.Create("same", 10), PasswordHash.Create("same", 10));
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("$pbkdf2-sha256$abc$AAAA$AAAA")]
    [InlineData("$pbkdf2-sha256$0$AAAA$AAAA")]
    [InlineData("$pbkdf2-sha256$10$AAAA")]
    [InlineData("$pbkdf2-sha256$10$!!$AAAA")]
    [InlineData("$pbkdf2-sha512$10$AAAA$AAAA")]
    public void TryParse_rejects_what_is_not_a_hash(string text)
    {
        Assert.False(PasswordHash.TryParse(text, out _, out _, out _));
    }
}
