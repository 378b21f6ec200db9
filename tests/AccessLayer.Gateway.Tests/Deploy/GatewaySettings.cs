using System.ComponentModel.DataAnnotations;
using System.Reflection;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Management;
using AccessLayer.SessionGrains.Hosting;
using AccessLayer.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;

namespace AccessLayer.Gateway.Tests.Deploy;

/// <summary>
/// Environment settings (<c>Section__Key</c>) as the gateway reads them: bound to its own options
/// types with the configuration binder, so a name no option has, or a value that does not parse
/// or validate, is found here rather than by a pod that does not start.
/// </summary>
internal static class GatewaySettings
{
    /// <summary>Every options type the gateway binds, by its section name (each has a <c>SectionName</c> constant).</summary>
    public static readonly IReadOnlyDictionary<string, Type> Sections =
        new[] { typeof(GatewayApp).Assembly, typeof(FleetOptions).Assembly, typeof(SessionsOptions).Assembly }
            .SelectMany(assembly => assembly.GetTypes())
            .Select(type => (type, field: type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static)))
            .Where(x => x.field is { IsLiteral: true } && x.field.FieldType == typeof(string))
            .ToDictionary(x => (string)x.field!.GetRawConstantValue()!, x => x.type, StringComparer.OrdinalIgnoreCase);

    /// <summary>What is wrong with these environment settings for the gateway; empty when nothing is.</summary>
    public static IReadOnlyList<string> Problems(IReadOnlyDictionary<string, string> environment)
    {
        var problems = new List<string>();
        foreach (var name in environment.Keys)
        {
            var section = name.Split("__")[0];
            if (name.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || name.StartsWith("DOTNET_", StringComparison.Ordinal))
            {
                continue;
            }

            if (!name.Contains("__", StringComparison.Ordinal))
            {
                problems.Add($"{name}: not a Section__Key setting");
            }
            else if (!Sections.ContainsKey(section) && section != "Logging")
            {
                problems.Add($"{name}: the gateway has no section '{section}' (sections: {string.Join(", ", Sections.Keys.Order())})");
            }
        }

        var configuration = Configuration(environment);
        foreach (var (section, type) in Sections)
        {
            if (!configuration.GetSection(section).Exists())
            {
                continue;
            }

            try
            {
                var options = configuration.GetSection(section).Get(type, binder => binder.ErrorOnUnknownConfiguration = true)!;
                var results = new List<ValidationResult>();
                if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
                {
                    problems.AddRange(results.Select(r => $"{section}: {r.ErrorMessage}"));
                }
            }
            catch (InvalidOperationException ex)
            {
                problems.Add($"{section}: {ex.Message}");
            }
        }

        return problems;
    }

    /// <summary>The options the gateway would run with: these settings over its defaults.</summary>
    public static T Bind<T>(IReadOnlyDictionary<string, string> environment)
        where T : new()
    {
        var section = Sections.Single(kv => kv.Value == typeof(T)).Key;
        return Configuration(environment).GetSection(section).Get<T>() ?? new T();
    }

    /// <summary>
    /// The paths the management surface serves without a token (the probes and metrics), read from
    /// the gateway's own endpoint table: what probes may point at.
    /// </summary>
    public static IReadOnlySet<string> UnauthenticatedManagementPaths => ManagementPaths.Value;

    private static readonly Lazy<IReadOnlySet<string>> ManagementPaths = new(() =>
    {
        var app = GatewayApp.Build(["--Mqtt:Port=0", "--Mlp:Port=0", "--Http:Port=0", "--Management:Port=0"]);
        try
        {
            return ((IEndpointRouteBuilder)app).DataSources
                .SelectMany(source => source.Endpoints)
                .OfType<RouteEndpoint>()
                .Where(e => e.Metadata.GetMetadata<HttpSurfaceMetadata>()?.Surface == HttpSurface.Management
                    && e.Metadata.GetMetadata<ManagementTokenNotRequired>() is not null)
                .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'))
                .ToHashSet(StringComparer.Ordinal);
        }
        finally
        {
            app.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    });

    private static IConfiguration Configuration(IReadOnlyDictionary<string, string> environment) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(environment.Select(kv => new KeyValuePair<string, string?>(kv.Key.Replace("__", ":", StringComparison.Ordinal), kv.Value)))
            .Build();
}
