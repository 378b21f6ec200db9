using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Management;
using AccessLayer.Gateway.Mlp;
using AccessLayer.Gateway.Tests.Broker;
using AccessLayer.Gateway.Tests.Conformance.Harness;
using AccessLayer.SessionGrains.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace AccessLayer.Gateway.Tests.Deploy;

/// <summary>
/// deploy/Dockerfile. No container runtime exists here, so the image is never built: the file is
/// checked against the gateway (its ports, its readiness route, the native library it loads), and
/// its health check command is run, as the image would run it, against a real gateway.
/// </summary>
public sealed class DockerfileTests
{
    [Fact]
    public void The_image_is_published_in_release_by_the_sdk_and_runs_on_the_aspnet_runtime()
    {
        var file = Dockerfile.Load();
        Assert.True(file.Stages.Count >= 2, "a multi-stage build: the SDK stays out of the image");
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:10.0", file.Stages[0].From, StringComparison.Ordinal);
        Assert.Contains(file.Stages[0].All("RUN"), run => run.Contains("dotnet publish gateway/AccessLayer.Gateway.csproj -c Release", StringComparison.Ordinal));
        Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:10.0", file.Runtime.From, StringComparison.Ordinal);
        Assert.Contains(file.Runtime.All("COPY"), copy => copy.StartsWith($"--from={file.Stages[0].Name} ", StringComparison.Ordinal));
        Assert.Contains("\"AccessLayer.Gateway.dll\"", Assert.Single(file.Runtime.All("ENTRYPOINT")), StringComparison.Ordinal);
    }

    [Fact]
    public void The_build_stage_copies_every_project_and_root_file_the_gateway_build_reads()
    {
        // What the build reads outside the projects: .editorconfig sets analyzer severities (and
        // warnings are errors), the props set versions and flags, global.json the SDK.
        string[] rootFiles = [".editorconfig", "global.json", "Directory.Build.props", "Directory.Packages.props"];
        var build = Dockerfile.Load().Stages[0];
        var copied = build.All("COPY").SelectMany(c => c.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1]).ToHashSet(StringComparer.Ordinal);
        Assert.All(rootFiles, file => Assert.Contains(file, copied));

        // The gateway's project references, followed to the end: each folder is copied whole.
        var projects = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<string>([Path.Combine(PeerPaths.RepoRoot, "gateway", "AccessLayer.Gateway.csproj")]);
        while (pending.TryDequeue(out var project))
        {
            if (!projects.Add(Path.GetRelativePath(PeerPaths.RepoRoot, Path.GetDirectoryName(project)!)))
            {
                continue;
            }

            foreach (var reference in System.Xml.Linq.XDocument.Load(project).Descendants("ProjectReference"))
            {
                pending.Enqueue(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(project)!, reference.Attribute("Include")!.Value)));
            }
        }

        Assert.Equal(4, projects.Count);
        Assert.All(projects, folder => Assert.Contains($"{folder}/", copied));

        // And the build context keeps them: .dockerignore must not drop any.
        var ignored = File.ReadAllLines(Path.Combine(PeerPaths.RepoRoot, ".dockerignore"))
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.TrimEnd('/')).ToList();
        Assert.All(rootFiles.Concat(projects), path => Assert.DoesNotContain(path, ignored));
    }

    [Fact]
    public void The_runtime_stage_runs_as_a_non_root_user()
    {
        var users = Dockerfile.Load().Runtime.All("USER").ToList();
        Assert.NotEmpty(users);
        var user = users[^1].Split(':')[0];
        Assert.DoesNotContain(user, new[] { "root", "0" });
        // Numeric, so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
        Assert.Matches("^[0-9]+$", user);
    }

    [Fact]
    public void The_runtime_stage_installs_the_libzstd_the_mlp_codec_loads()
    {
        // The MLP zstd codec P/Invokes the system library by this soname (no managed zstd).
        var native = typeof(AccessLayer.Protocol.Compression.ZstdCodec).Assembly.GetTypes().Single(t => t.Name == "ZstdNative");
        var library = (string)native.GetField("Library", BindingFlags.NonPublic | BindingFlags.Static)!.GetRawConstantValue()!;
        Assert.Equal("libzstd.so.1", library);
        Assert.Contains(Dockerfile.Load().Runtime.All("RUN"), run => Regex.IsMatch(run, @"apt-get install .*\blibzstd1\b"));
    }

    [Fact]
    public void The_runtime_stage_exposes_every_listener_at_its_documented_default()
    {
        int[] defaults =
        [
            new MqttOptions().Port, new MqttOptions().TlsPort, new MlpOptions().Port, new HttpOptions().Port,
            new HttpOptions().TlsPort, new ManagementOptions().Port, new FleetOptions().SiloPort,
        ];
        var exposed = Dockerfile.Load().Runtime.All("EXPOSE").SelectMany(e => e.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(p => int.Parse(p.Split('/')[0])).ToList();
        Assert.Equal(defaults.Order(), exposed.Order());

        // The defaults are those docs/configuration.md promises.
        var documented = File.ReadAllText(Path.Combine(PeerPaths.RepoRoot, "docs", "configuration.md"));
        foreach (var (key, port) in new[] { ("Mqtt:Port", defaults[0]), ("Mqtt:TlsPort", defaults[1]), ("Mlp:Port", defaults[2]), ("Http:Port", defaults[3]), ("Http:TlsPort", defaults[4]), ("Management:Port", defaults[5]), ("Fleet:SiloPort", defaults[6]) })
        {
            Assert.Contains($"| `{key}` | `{port}` |", documented, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_health_check_asks_readyz_on_the_management_port_without_curl()
    {
        var runtime = Dockerfile.Load().Runtime;
        var command = Dockerfile.ExecForm(Assert.Single(runtime.All("HEALTHCHECK")));
        var script = string.Join(' ', command);
        Assert.Contains("/readyz", script, StringComparison.Ordinal);
        Assert.Contains("/readyz", GatewaySettings.UnauthenticatedManagementPaths);
        Assert.Contains($"${{Management__Port:-{new ManagementOptions().Port}}}", script, StringComparison.Ordinal);
        // The aspnet image has no curl or wget, and this file installs neither.
        Assert.DoesNotMatch(@"\b(curl|wget)\b", script);
    }

    [Fact]
    public async Task The_health_check_passes_on_a_ready_gateway_and_fails_once_it_drains_or_stops()
    {
        var command = Dockerfile.ExecForm(Assert.Single(Dockerfile.Load().Runtime.All("HEALTHCHECK")));
        int managementPort;
        await using (var gateway = await InProcessGateway.StartAsync())
        {
            managementPort = gateway.ManagementPort;
            Assert.Equal(0, await RunAsync(command, managementPort));

            // Readiness, not liveness: a draining node is unhealthy to Docker.
            Assert.True(gateway.Services.GetRequiredService<DrainCoordinator>().Start("test"));
            Assert.NotEqual(0, await RunAsync(command, managementPort));
        }

        Assert.NotEqual(0, await RunAsync(command, managementPort));
    }

    /// <summary>Runs the exec-form command as Docker would (bash from the PATH), the port given as the image's environment would.</summary>
    private static async Task<int> RunAsync(IReadOnlyList<string> command, int managementPort)
    {
        var start = new ProcessStartInfo(command[0], command.Skip(1)) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.Environment["Management__Port"] = managementPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10)); // the HEALTHCHECK's own timeout is 3 s
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode;
    }
}
