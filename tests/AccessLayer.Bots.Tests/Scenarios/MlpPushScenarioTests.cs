using AccessLayer.Bots.Scenarios;

namespace AccessLayer.Bots.Tests.Scenarios;

public sealed class MlpPushScenarioTests
{
    [Fact]
    public void SumMetric_adds_every_labelled_sample_of_the_family_and_nothing_else()
    {
        const string exposition = """
            # HELP accesslayer_mlp_pushes_acknowledged_total Sequenced pushes acknowledged by clients.
            # TYPE accesslayer_mlp_pushes_acknowledged_total counter
            accesslayer_mlp_pushes_acknowledged_total{node="a"} 12
            accesslayer_mlp_pushes_acknowledged_total{node="b"} 30
            accesslayer_mlp_pushes_acknowledged_other_total 1000
            accesslayer_mlp_pushes_acknowledgedx 7
            """;
        Assert.Equal(42, MlpPushScenario.SumMetric(exposition, "accesslayer_mlp_pushes_acknowledged_total"));
    }

    [Fact]
    public void SumMetric_is_minus_one_when_the_family_is_absent() =>
        Assert.Equal(-1, MlpPushScenario.SumMetric("other_metric 5\n", "accesslayer_mlp_pushes_acknowledged"));
}
