using AccessLayer.Bots.Scenarios;

namespace AccessLayer.Bots.Tests.Scenarios;

public sealed class BrokerMemoryProbeTests
{
    [Fact]
    public void Parses_the_VmRSS_line()
    {
        Assert.True(BrokerMemoryProbe.TryParseRss("VmRSS:\t   123456 kB", out var kb));
        Assert.Equal(123456, kb);
        Assert.False(BrokerMemoryProbe.TryParseRss("VmHWM:\t   1 kB", out _));
    }

    [Fact]
    public void Reads_a_live_process_and_nothing_for_a_missing_one()
    {
        Assert.True(BrokerMemoryProbe.ReadRssKb(Environment.ProcessId) > 1000);
        Assert.Null(BrokerMemoryProbe.ReadRssKb(int.MaxValue));
    }
}
