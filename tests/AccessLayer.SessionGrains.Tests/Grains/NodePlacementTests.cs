using AccessLayer.SessionGrains.Nodes;
using Orleans.TestingHost;

namespace AccessLayer.SessionGrains.Tests.Grains;

/// <summary>A node-placed grain lives on the silo its key names, on a real two-silo cluster.</summary>
public sealed class NodePlacementTests : IAsyncLifetime
{
    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = new TestClusterBuilder(2).AddSiloBuilderConfigurator<NodePlacementConfigurator>().Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_grain_keyed_by_a_silo_runs_on_that_silo()
    {
        foreach (var silo in _cluster.Silos)
        {
            var key = silo.SiloAddress.ToParsableString();
            var where = await _cluster.GrainFactory.GetGrain<IWhereGrain>(key).SiloAsync();
            Assert.Equal(key, where);
        }
    }

    [Fact]
    public async Task A_key_naming_no_member_fails_the_call()
    {
        var gone = _cluster.SecondarySilos[0].SiloAddress.ToParsableString();
        await _cluster.StopSiloAsync(_cluster.SecondarySilos[0]);

        await Assert.ThrowsAnyAsync<Exception>(() => _cluster.GrainFactory.GetGrain<IWhereGrain>(gone).SiloAsync());
    }
}

public interface IWhereGrain : IGrainWithStringKey
{
    Task<string> SiloAsync();
}

[NodePlacement]
internal sealed class WhereGrain(Orleans.Runtime.ILocalSiloDetails silo) : Grain, IWhereGrain
{
    public Task<string> SiloAsync() => Task.FromResult(silo.SiloAddress.ToParsableString());
}

internal sealed class NodePlacementConfigurator : ISiloConfigurator
{
    public void Configure(Orleans.Hosting.ISiloBuilder siloBuilder) =>
        siloBuilder.Services.AddPlacementDirector<NodePlacement, NodePlacementDirector>();
}
