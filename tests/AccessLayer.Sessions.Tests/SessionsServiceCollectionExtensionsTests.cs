using AccessLayer.Sessions.Retained;
using AccessLayer.Sessions.Routing;
using AccessLayer.Sessions.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AccessLayer.Sessions.Tests;

public class SessionsServiceCollectionExtensionsTests
{
    [Fact]
    public void AddInMemorySessions_registers_singletons_for_every_interface()
    {
        using ServiceProvider provider = new ServiceCollection().AddInMemorySessions().BuildServiceProvider();

        Assert.IsType<InMemorySessionStore>(provider.GetRequiredService<ISessionStore>());
        Assert.IsType<InMemoryRetainedMessageStore>(provider.GetRequiredService<IRetainedMessageStore>());
        Assert.IsType<InMemorySubscriptionRouter>(provider.GetRequiredService<ISubscriptionRouter>());
        Assert.Same(provider.GetRequiredService<ISessionStore>(), provider.GetRequiredService<ISessionStore>());
        Assert.Same(TimeProvider.System, provider.GetRequiredService<TimeProvider>());
    }

    [Fact]
    public async Task AddInMemorySessions_uses_configured_options_and_existing_time_provider()
    {
        var time = new FakeTimeProvider();
        var services = new ServiceCollection().AddSingleton<TimeProvider>(time);
        using ServiceProvider provider = services.AddInMemorySessions(o => o.MaxInflightMessages = 1).BuildServiceProvider();

        Assert.Same(time, provider.GetRequiredService<TimeProvider>());
        var store = provider.GetRequiredService<ISessionStore>();
        SessionToken token = (await store.OpenAsync(new SessionConnectRequest { ClientId = "c", SessionExpiryInterval = 10 })).Token;
        var delivery = new MessageDelivery { Message = new() { Topic = "t" }, QualityOfService = Protocol.Mqtt.MqttQualityOfService.AtLeastOnce };
        Assert.Equal(1, await store.AddInflightAsync(token, delivery));
        Assert.Equal(0, await store.AddInflightAsync(token, delivery));
    }

    [Fact]
    public void AddInMemorySessions_validates_options()
    {
        using ServiceProvider provider = new ServiceCollection().AddInMemorySessions(o => o.MaxQueuedMessagesPerSession = -5).BuildServiceProvider();

        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<SessionsOptions>>().Value);
        Assert.Contains("MaxQueuedMessagesPerSession", error.Message, StringComparison.Ordinal);
    }
}
