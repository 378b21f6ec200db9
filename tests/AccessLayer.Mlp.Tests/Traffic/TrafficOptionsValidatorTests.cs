using AccessLayer.Gateway.Traffic;
using AccessLayer.Mlp.Tests.Infrastructure;

namespace AccessLayer.Mlp.Tests.Traffic;

/// <summary>A table needs the node's site and the shared secret; without a table nothing of the section is required.</summary>
public sealed class TrafficOptionsValidatorTests
{
    [Fact]
    public void Without_a_table_file_nothing_is_required()
    {
        Assert.True(new TrafficOptionsValidator().Validate(null, new TrafficOptions()).Succeeded);
    }

    [Fact]
    public void A_table_file_without_a_site_or_with_a_short_secret_is_refused_naming_both_keys()
    {
        var result = new TrafficOptionsValidator().Validate(null, new TrafficOptions { TableFile = "/etc/traffic.yaml", Secret = "short" });

        Assert.True(result.Failed);
        Assert.Contains("Traffic:Site", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Traffic:Secret", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Uplink_retry_delays_and_queue_bytes_that_contradict_each_other_are_refused()
    {
        var result = new TrafficOptionsValidator().Validate(null, new TrafficOptions
        {
            UplinkRetryDelay = TimeSpan.FromSeconds(5),
            UplinkRetryDelayMax = TimeSpan.FromSeconds(1),
            UplinkBatchBytes = 1024 * 1024,
            UplinkQueueBytes = 64 * 1024,
        });

        Assert.True(result.Failed);
        Assert.Contains("Traffic:UplinkRetryDelayMax", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Traffic:UplinkQueueBytes", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gateway_whose_table_file_does_not_load_does_not_start()
    {
        using var file = new TrafficTestTables.File("version: 1\nsites: {}\n");

        // Nothing to route by: the start fails with the file's problem rather than serving without the table.
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => MlpTestGateway.StartAsync(TrafficTestTables.Settings(file)));
        Assert.Contains("does not load", ex.Message, StringComparison.Ordinal);
    }
}
