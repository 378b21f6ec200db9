using System.Security.Cryptography;
using AccessLayer.Gateway.Security;

namespace AccessLayer.Gateway.Tests.Security;

/// <summary>The ticket key file: newest first, comments, and a readable refusal of anything that is not a key.</summary>
public sealed class TlsTicketKeysTests
{
    [Fact]
    public void Keys_are_read_in_file_order_and_found_by_name()
    {
        var newest = RandomNumberGenerator.GetBytes(TlsTicketKeys.KeyLength);
        var older = RandomNumberGenerator.GetBytes(TlsTicketKeys.KeyLength);

        var keys = TlsTicketKeys.Parse(["# rotated 2026-12-05", Convert.ToBase64String(newest), "", "  " + Convert.ToBase64String(older) + "  "], "keys");

        Assert.Equal(2, keys.Count);
        Assert.True(keys.Configured);
        Assert.Equal(newest, keys.Keys[..TlsTicketKeys.KeyLength]);
        Assert.Equal(1, keys.Find(older.AsSpan(0, TlsTicketKeys.NameLength)));
        Assert.Equal(-1, keys.Find(new byte[TlsTicketKeys.NameLength]));
    }

    [Theory]
    [InlineData("not base64 at all")]
    [InlineData("AAAA")]
    public void A_line_that_is_not_an_80_byte_key_is_refused_with_its_line_number(string line)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(TlsTicketKeys.KeyLength));

        var error = Assert.Throws<InvalidOperationException>(() => TlsTicketKeys.Parse([key, line], "keys"));

        Assert.Contains("line 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("base64 -w0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_without_keys_or_with_too_many_is_refused()
    {
        Assert.Throws<InvalidOperationException>(() => TlsTicketKeys.Parse(["# nothing yet"], "keys"));
        var many = Enumerable.Range(0, TlsTicketKeys.MaxKeys + 1).Select(_ => Convert.ToBase64String(RandomNumberGenerator.GetBytes(TlsTicketKeys.KeyLength)));
        Assert.Throws<InvalidOperationException>(() => TlsTicketKeys.Parse(many, "keys"));
    }
}
