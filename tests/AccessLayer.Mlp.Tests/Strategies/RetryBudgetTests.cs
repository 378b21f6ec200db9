using AccessLayer.Client;
using AccessLayer.Client.Strategies;

namespace AccessLayer.Mlp.Tests.Strategies;

public sealed class RetryBudgetTests
{
    [Fact]
    public void Resends_stay_within_the_ratio_of_calls_plus_the_capacity()
    {
        var budget = new RetryBudget(new MlpWeakNetworkOptions { RetryBudgetRatio = 0.1, RetryBudgetCapacity = 10 });

        // Starts full: a burst of failures after a quiet time gets the capacity, no more.
        for (var i = 0; i < 10; i++)
            Assert.True(budget.TryWithdraw());
        Assert.False(budget.TryWithdraw());

        // Then one resend per ten calls: at most 10% extra load.
        var resends = 0;
        for (var call = 0; call < 1000; call++)
        {
            budget.OnCall();
            if (budget.TryWithdraw())
                resends++;
        }

        Assert.InRange(resends, 99, 100);
    }

    [Fact]
    public void The_bucket_never_holds_more_than_its_capacity()
    {
        var budget = new RetryBudget(new MlpWeakNetworkOptions { RetryBudgetRatio = 0.5, RetryBudgetCapacity = 2 });
        for (var call = 0; call < 100; call++)
            budget.OnCall();

        Assert.Equal(2, budget.Tokens);
        Assert.True(budget.TryWithdraw());
        Assert.True(budget.TryWithdraw());
        Assert.False(budget.TryWithdraw());
    }
}
