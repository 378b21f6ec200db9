using AccessLayer.SessionGrains.Hosting;
using AccessLayer.SessionGrains.Mlp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace AccessLayer.SessionGrains.Tests.Grains;

/// <summary>The MLP user grain on a real (in-process) Orleans cluster with in-memory storage and a fake clock.</summary>
public sealed class MlpUserGrainTests : IAsyncLifetime
{
    private static readonly TimeSpan Expiry = TimeSpan.FromHours(1);

    // The silo runs in this process: its grains read this clock.
    private static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = new TestClusterBuilder(1).AddSiloBuilderConfigurator<Configurator>().Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Lists_the_devices_that_connected_as_the_user_until_they_move_to_another_user()
    {
        var user = _cluster.GrainFactory.GetGrain<IMlpUserGrain>("u1");
        await user.ConnectedAsync("phone", Expiry);
        await user.ConnectedAsync("tablet", Expiry);
        await user.RemoveAsync("tablet");

        Assert.Equal(["phone"], await user.GetDevicesAsync(Expiry));
    }

    [Fact]
    public async Task An_offline_device_is_forgotten_after_the_expiry_and_a_connected_one_never()
    {
        var user = _cluster.GrainFactory.GetGrain<IMlpUserGrain>("u2");
        await user.ConnectedAsync("online", Expiry);
        await user.ConnectedAsync("offline", Expiry);
        await user.DisconnectedAsync("offline", Expiry);

        Time.Advance(Expiry - TimeSpan.FromMinutes(1));
        Assert.Equal(["offline", "online"], (await user.GetDevicesAsync(Expiry)).Order());
        Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(["online"], await user.GetDevicesAsync(Expiry));
    }

    [Fact]
    public async Task Past_the_bound_the_longest_offline_device_goes_first()
    {
        var user = _cluster.GrainFactory.GetGrain<IMlpUserGrain>("u3");
        for (var i = 0; i < MlpUserGrain.MaxDevices; i++)
        {
            await user.ConnectedAsync("d" + i, Expiry);
            if (i < 2)
            {
                await user.DisconnectedAsync("d" + i, Expiry);
                Time.Advance(TimeSpan.FromSeconds(1));
            }
        }

        await user.ConnectedAsync("one-more", Expiry);

        var devices = await user.GetDevicesAsync(Expiry);
        Assert.Equal(MlpUserGrain.MaxDevices, devices.Length);
        Assert.DoesNotContain("d0", devices);
        Assert.Contains("d1", devices);
        Assert.Contains("one-more", devices);
    }

    private sealed class Configurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.AddMemoryGrainStorage(FleetHostingExtensions.StorageName);
            siloBuilder.Services.AddSingleton<TimeProvider>(Time);
        }
    }
}
