namespace AccessLayer.Gateway.Dashboard;

internal static class DashboardServiceCollectionExtensions
{
    /// <summary>The <c>Dashboard</c> section, the in-process counter reader, the once-a-second sampler and the embedded files.</summary>
    public static IServiceCollection AddDashboard(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DashboardOptions>().Bind(configuration.GetSection(DashboardOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IGatewayCounters, GatewayCounterReader>();
        services.AddSingleton<NodeStatsSampler>();
        services.AddHostedService(sp => sp.GetRequiredService<NodeStatsSampler>());
        services.AddSingleton<DashboardAssets>();
        return services;
    }
}
