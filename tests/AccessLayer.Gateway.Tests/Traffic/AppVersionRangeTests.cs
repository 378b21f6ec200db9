using AccessLayer.Gateway.Traffic;

namespace AccessLayer.Gateway.Tests.Traffic;

public sealed class AppVersionRangeTests
{
    [Theory]
    [InlineData(">=5.2.0 <6", "5.2.0", true)]
    [InlineData(">=5.2.0 <6", "5.10", true)]
    [InlineData(">=5.2.0 <6", "5.1.99", false)]
    [InlineData(">=5.2.0 <6", "6.0", false)]
    [InlineData(">5.2", "5.2.0", false)]
    [InlineData(">5.2", "5.2.1", true)]
    [InlineData("<=1", "1.0.0", true)]
    [InlineData("=2.1", "2.1.0", true)]
    [InlineData("2.1", "2.1.1", false)]
    [InlineData(">=1", "1.x", false)]
    [InlineData(">=1", "", false)]
    public void Versions_compare_part_by_part_as_numbers(string range, string version, bool contained)
    {
        Assert.True(AppVersionRange.TryParse(range, out var parsed));

        Assert.Equal(contained, parsed.Contains(version));
    }

    [Theory]
    [InlineData("")]
    [InlineData("newest")]
    [InlineData(">=5..2")]
    [InlineData(">=")]
    public void Ranges_that_are_not_versions_are_refused(string range)
    {
        Assert.False(AppVersionRange.TryParse(range, out _));
    }
}
