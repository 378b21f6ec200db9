using AccessLayer.Gateway.Security;

namespace AccessLayer.Gateway.Governance;

internal static class GovernanceServiceCollectionExtensions
{
    /// <summary>Connection governance, security and the admin API: the <c>Limits</c>, <c>Drain</c>, <c>Tls</c>, <c>Auth</c>, <c>Acl</c> and <c>SecurityReload</c> sections (the admin API's token is <c>Management:Token</c>).</summary>
    public static IServiceCollection AddGatewayGovernance(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<LimitsOptions>().Bind(configuration.GetSection(LimitsOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<DrainOptions>().Bind(configuration.GetSection(DrainOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<TlsOptions>().Bind(configuration.GetSection(TlsOptions.SectionName));
        services.AddOptions<AuthOptions>().Bind(configuration.GetSection(AuthOptions.SectionName));
        services.AddOptions<AclOptions>().Bind(configuration.GetSection(AclOptions.SectionName));

        services.AddSingleton<ConnectionGovernor>();
        services.AddSingleton<FlappingDetector>();
        services.AddSingleton<IProcessMemoryProbe, ProcessMemoryProbe>();
        services.AddSingleton<MemoryWatermark>();
        services.AddSingleton<ConnectGate>();
        services.AddSingleton<AclRuleSet>();
        services.AddSingleton<PasswordFileSource>();
        services.AddSingleton<TlsCertificateStore>();
        services.AddOptions<SecurityReloadOptions>().Bind(configuration.GetSection(SecurityReloadOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<SecurityReloader>();
        services.AddSingleton<SecurityFileWatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<SecurityFileWatcher>());
        services.AddSingleton<DrainCoordinator>();
        services.AddHostedService<DrainOnShutdown>();
        return services;
    }
}
