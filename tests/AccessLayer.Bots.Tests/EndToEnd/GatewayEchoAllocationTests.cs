using AccessLayer.Bots.Client;
using AccessLayer.Bots.Metrics;
using Xunit.Abstractions;

namespace AccessLayer.Bots.Tests.EndToEnd;

[CollectionDefinition(nameof(AllocationMeasurement), DisableParallelization = true)]
public sealed class AllocationMeasurement;

/// <summary>
/// Bytes the whole process allocates per echo call while lean connections drive the in-process gateway.
/// The lean client allocates nothing per call, so this is the gateway's hot path (plus a little background noise).
/// Runs alone: other tests' allocations would be counted.
/// </summary>
[Collection(nameof(AllocationMeasurement))]
public sealed class GatewayEchoAllocationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Echo_calls_over_pipelined_connections_allocate_almost_nothing_per_call()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        var connections = new List<LeanMlpConnection>();
        for (var i = 0; i < 4; i++)
        {
            connections.Add(await LeanMlpConnection.ConnectAsync(new LeanMlpSettings { Endpoint = gateway.MlpEndPoint, DeviceId = $"alloc-{i}", PayloadSize = 64, InFlight = 16 }, CancellationToken.None));
        }

        try
        {
            await RunAsync(connections, 10_000);
            var before = GC.GetTotalAllocatedBytes(precise: true);
            var calls = await RunAsync(connections, 25_000);

            var perCall = (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)calls;
            output.WriteLine($"{perCall:F1} bytes allocated per echo call ({calls} calls)");

            Assert.Equal(100_000, calls);
            // Was 1,873 B before the echo was answered inline with pooled bodies and struct queue items, and 32 B
            // while the metrics exporter built a series key string per read batch; ~11 B is left (per-read-batch state).
            Assert.InRange(perCall, 0, 50);
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private static async Task<long> RunAsync(List<LeanMlpConnection> connections, long perConnection)
    {
        var stats = new BotStats { MeasureFrom = 0 };
        var results = await Task.WhenAll(connections.Select(c => Task.Run(() => c.RunAsync(perConnection, stats, CancellationToken.None, CancellationToken.None))));
        Assert.All(results, r => Assert.Empty(r.Errors));
        return results.Sum(r => r.MeasuredGood);
    }
}

