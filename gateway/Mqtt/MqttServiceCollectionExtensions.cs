using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Security;
using AccessLayer.Sessions;

namespace AccessLayer.Gateway.Mqtt;

internal static class MqttServiceCollectionExtensions
{
    /// <summary>The MQTT broker on the embedded, in-memory session layer; <c>Mqtt:*</c> bounds flow into <see cref="SessionsOptions"/>.</summary>
    public static IServiceCollection AddMqttBroker(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<GatewayReadiness>();
        services.AddInMemorySessions();
        services.Configure<SessionsOptions>(configuration.GetSection(SessionsOptions.SectionName));
        services.AddOptions<SessionsOptions>().Configure<Microsoft.Extensions.Options.IOptions<MqttOptions>>((sessions, mqtt) =>
        {
            sessions.MaxQueuedMessagesPerSession = mqtt.Value.MaxQueuedMessages;
            sessions.MaxInflightMessages = mqtt.Value.MaxInflight;
            sessions.QueueQos0Messages = mqtt.Value.QueueQos0Messages;
        });
        services.AddSingleton<IMqttAuthenticator, GatewayAuthenticator>();
        services.AddSingleton<MqttGovernance>();
        services.AddSingleton<MqttBroker>();
        services.AddSingleton<MqttConnectionHandler>();
        services.AddSingleton<IDrainParticipant, MqttDrainParticipant>();
        services.AddSingleton<MqttBrokerMaintenance>();
        services.AddHostedService(sp => sp.GetRequiredService<MqttBrokerMaintenance>());
        return services;
    }
}
