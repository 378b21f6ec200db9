using AccessLayer.Client;
using AccessLayer.Client.Strategies;

namespace AccessLayer.Mlp.Tests.Strategies;

public sealed class NetworkQualityModelTests
{
    private static NetworkQualityModel Model(out List<NetworkQuality> changes, MlpWeakNetworkOptions? options = null)
    {
        var model = new NetworkQualityModel(options ?? new MlpWeakNetworkOptions(), new RttEstimator());
        var seen = new List<NetworkQuality>();
        model.Changed += seen.Add;
        changes = seen;
        return model;
    }

    [Fact]
    public void Normal_before_any_measurement()
    {
        Assert.Equal(NetworkQuality.Normal, Model(out _).Quality);
    }

    [Fact]
    public void Short_steady_RTT_without_loss_is_Good_and_raises_the_event_once()
    {
        var model = Model(out var changes);

        for (var i = 0; i < 5; i++)
            model.OnRttSample(TimeSpan.FromMilliseconds(40));

        Assert.Equal(NetworkQuality.Good, model.Quality);
        Assert.Equal([NetworkQuality.Good], changes);
    }

    [Fact]
    public void Long_smoothed_RTT_is_Weak()
    {
        var model = Model(out _);

        for (var i = 0; i < 5; i++)
            model.OnRttSample(TimeSpan.FromMilliseconds(900));

        Assert.Equal(NetworkQuality.Weak, model.Quality);
    }

    [Fact]
    public void RTT_between_the_thresholds_is_Normal()
    {
        var model = Model(out _);

        for (var i = 0; i < 5; i++)
            model.OnRttSample(TimeSpan.FromMilliseconds(300));

        Assert.Equal(NetworkQuality.Normal, model.Quality);
    }

    [Fact]
    public void Loss_at_the_weak_rate_makes_a_fast_path_Weak_until_it_leaves_the_window()
    {
        var model = Model(out _, new MlpWeakNetworkOptions { LossWindow = 10, WeakLossRate = 0.2 });
        for (var i = 0; i < 8; i++)
            model.OnRttSample(TimeSpan.FromMilliseconds(40));
        model.OnFailure();
        model.OnRttSample(TimeSpan.FromMilliseconds(40));
        Assert.Equal(NetworkQuality.Normal, model.Quality); // 1 of 10 lost: not Good, not yet Weak

        model.OnFailure();
        Assert.Equal(NetworkQuality.Weak, model.Quality); // 2 of 10
        Assert.Equal(0.2, model.LossRate, 3);

        for (var i = 0; i < 10; i++)
            model.OnRttSample(TimeSpan.FromMilliseconds(40));
        Assert.Equal(NetworkQuality.Good, model.Quality);
        Assert.Equal(0, model.LossRate);
    }

    [Fact]
    public void Consecutive_failures_are_Offline_and_one_success_ends_it()
    {
        var model = Model(out var changes, new MlpWeakNetworkOptions { OfflineAfterFailures = 3 });
        model.OnRttSample(TimeSpan.FromMilliseconds(40));

        model.OnFailure();
        model.OnFailure();
        Assert.NotEqual(NetworkQuality.Offline, model.Quality);
        model.OnFailure();
        Assert.Equal(NetworkQuality.Offline, model.Quality);

        model.OnSuccess();
        Assert.Equal(NetworkQuality.Weak, model.Quality); // back, but 3 of 5 recent outcomes were lost
        Assert.Equal([NetworkQuality.Good, NetworkQuality.Weak, NetworkQuality.Offline, NetworkQuality.Weak], changes);
    }
}
