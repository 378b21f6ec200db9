using System.ComponentModel.DataAnnotations;
using AccessLayer.Gateway.Hosting;

namespace AccessLayer.Gateway.Tests.Transport;

public sealed class TransportOptionsTests
{
    private static List<ValidationResult> Validate(TransportOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }

    [Fact]
    public void Default_is_Epoll_on_Linux_and_valid()
    {
        var options = new TransportOptions();

        Assert.Equal(OperatingSystem.IsLinux() ? TransportEngine.Epoll : TransportEngine.Kestrel, options.EffectiveEngine);
        Assert.Empty(Validate(options));
    }

    [Fact]
    public void An_explicit_engine_wins_over_the_default()
    {
        Assert.Equal(TransportEngine.Kestrel, new TransportOptions { Engine = TransportEngine.Kestrel }.EffectiveEngine);
        Assert.Empty(Validate(new TransportOptions { Engine = TransportEngine.Kestrel }));
    }

    [Fact]
    public void The_removed_LeanMqtt_setting_is_rejected_with_a_reason()
    {
        var results = Validate(new TransportOptions { LeanMqtt = true });

        Assert.Contains(results, r => r.MemberNames.Contains(nameof(TransportOptions.LeanMqtt)) && r.ErrorMessage!.Contains("epoll", StringComparison.Ordinal));
    }

    [Fact]
    public void Epoll_loops_out_of_range_are_rejected_and_zero_picks_a_bounded_count()
    {
        Assert.Contains(Validate(new TransportOptions { EpollLoops = -1 }), r => r.MemberNames.Contains(nameof(TransportOptions.EpollLoops)));
        Assert.Contains(Validate(new TransportOptions { EpollLoops = 257 }), r => r.MemberNames.Contains(nameof(TransportOptions.EpollLoops)));
        Assert.InRange(new TransportOptions().EffectiveEpollLoops, 1, TransportOptions.MaxAutoEpollLoops);
        Assert.Equal(7, new TransportOptions { EpollLoops = 7 }.EffectiveEpollLoops);
    }

    [Fact]
    public void An_undefined_engine_is_rejected()
    {
        Assert.Contains(Validate(new TransportOptions { Engine = (TransportEngine)42 }), r => r.MemberNames.Contains(nameof(TransportOptions.Engine)));
    }

    [Fact]
    public async Task An_invalid_combination_stops_the_gateway_at_start()
    {
        var app = GatewayApp.Build(["--Mqtt:Port=0", "--Http:Port=0", "--Management:Port=0", "--Mlp:Port=0", "--Transport:LeanMqtt=true"]);
        await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => app.StartAsync());
        await app.DisposeAsync();
    }
}
