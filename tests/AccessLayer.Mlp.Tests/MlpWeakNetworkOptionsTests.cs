using AccessLayer.Client;

namespace AccessLayer.Mlp.Tests;

public sealed class MlpWeakNetworkOptionsTests
{
    [Fact]
    public void Defaults_are_valid_and_every_strategy_is_on()
    {
        var options = new MlpWeakNetworkOptions();

        options.Validate();

        Assert.True(options.DynamicTimeouts && options.DeadLinkDetection && options.SmartHeartbeat && options.AutoReconnect);
    }

    public static TheoryData<string, Action<MlpWeakNetworkOptions>> BadSettings() => new()
    {
        { nameof(MlpWeakNetworkOptions.GoodRtt), o => o.GoodRtt = TimeSpan.Zero },
        { nameof(MlpWeakNetworkOptions.WeakRtt), o => o.WeakRtt = o.GoodRtt },
        { nameof(MlpWeakNetworkOptions.WeakLossRate), o => o.WeakLossRate = 0 },
        { nameof(MlpWeakNetworkOptions.LossWindow), o => o.LossWindow = 0 },
        { nameof(MlpWeakNetworkOptions.OfflineAfterFailures), o => o.OfflineAfterFailures = 0 },
        { nameof(MlpWeakNetworkOptions.ServerAllowance), o => o.ServerAllowance = TimeSpan.FromSeconds(-1) },
        { nameof(MlpWeakNetworkOptions.DeadLinkMinTimeout), o => o.DeadLinkMinTimeout = TimeSpan.Zero },
        { nameof(MlpWeakNetworkOptions.HeartbeatProbeResolution), o => o.HeartbeatProbeResolution = TimeSpan.Zero },
        { nameof(MlpWeakNetworkOptions.ReconnectMaxDelay), o => o.ReconnectMaxDelay = TimeSpan.FromMilliseconds(500) },
        { nameof(MlpWeakNetworkOptions.ReconnectOwedMaxDelay), o => o.ReconnectOwedMaxDelay = TimeSpan.Zero },
        { nameof(MlpWeakNetworkOptions.ReconnectOwedFreshAttemptInterval), o => o.ReconnectOwedFreshAttemptInterval = TimeSpan.FromMilliseconds(5) },
        { nameof(MlpWeakNetworkOptions.ReconnectOwedFreshAttemptInterval), o => o.ReconnectOwedFreshAttemptInterval = TimeSpan.FromMilliseconds(1001) },
        { nameof(MlpWeakNetworkOptions.ReconnectOwedMaxOpenAttempts), o => o.ReconnectOwedMaxOpenAttempts = 0 },
        { nameof(MlpWeakNetworkOptions.ReconnectOwedMaxFreshAttempts), o => o.ReconnectOwedMaxFreshAttempts = -1 },
        { nameof(MlpWeakNetworkOptions.TcpRtoMin), o => o.TcpRtoMin = TimeSpan.FromMilliseconds(1) },
        { nameof(MlpWeakNetworkOptions.TcpRtoMin), o => o.TcpRtoMin = TimeSpan.FromMilliseconds(201) },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void A_setting_out_of_range_is_refused_by_name_when_the_client_is_created(string setting, Action<MlpWeakNetworkOptions> spoil)
    {
        var options = new MlpClientOptions { Endpoint = new Uri("tcp://127.0.0.1:1") };
        spoil(options.WeakNetwork);

        var refused = Assert.Throws<ArgumentException>(() => new MlpClient(options));

        Assert.Equal(setting, refused.ParamName);
    }
}
