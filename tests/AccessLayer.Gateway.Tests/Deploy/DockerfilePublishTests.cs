using System.Text.Json;
using AccessLayer.Gateway.Tests.Conformance.Harness;

namespace AccessLayer.Gateway.Tests.Deploy;

/// <summary>
/// What the image runs is the ReadyToRun publish (docs/deploy.md). No container runtime exists here, so the Dockerfile's
/// build stage is run on this host (<see cref="BuildStageRun"/>): its COPY instructions from the build context, then its
/// restore and publish, into the path the runtime stage copies from; every assembly there must be precompiled.
/// </summary>
public sealed class DockerfilePublishTests(ITestOutputHelper output)
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(10);

    [Fact]
    public void The_build_stage_restores_and_publishes_for_linux_x64_ready_to_run_on_the_shared_framework()
    {
        var runs = Dockerfile.Load().Stages[0].All("RUN").Select(r => r.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        var restore = Assert.Single(runs, r => r is ["dotnet", "restore", ..]);
        var publish = Assert.Single(runs, r => r is ["dotnet", "publish", ..]);

        // The restore must name the runtime and ReadyToRun too: it fetches the runtime packs and crossgen2, and the
        // publish runs with --no-restore (without them it fails with NETSDK1094/NETSDK1047).
        foreach (var command in new[] { restore, publish })
        {
            Assert.Equal("linux-x64", Option(command, "-r"));
            Assert.Contains("-p:PublishReadyToRun=true", command);
        }

        // Framework-dependent: the aspnet image brings the runtime; ENTRYPOINT runs the dll through `dotnet`.
        Assert.Equal("false", Option(publish, "--self-contained"));
        Assert.Contains("-p:UseAppHost=false", publish);
        Assert.Contains("--no-restore", publish);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task The_build_stage_run_here_publishes_every_assembly_the_image_copies_ready_to_run()
    {
        var file = Dockerfile.Load();
        var build = file.Stages[0];
        var copy = Assert.Single(file.Runtime.All("COPY"), c => c.StartsWith($"--from={build.Name} ", StringComparison.Ordinal));
        var published = copy.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var entryPoint = JsonSerializer.Deserialize<string[]>(Assert.Single(file.Runtime.All("ENTRYPOINT")))!;

        using var run = await BuildStageRun.RunAsync(build, BuildContext.Load(PeerPaths.RepoRoot), [published], BuildTimeout);
        output.WriteLine(run.TranscriptTail(20));
        var app = run.MapPath(published);

        Assert.True(File.Exists(Path.Combine(app, entryPoint[^1])), $"{entryPoint[^1]} is not in {published}");
        var assemblies = Directory.GetFiles(app, "*.dll");
        Assert.Contains(assemblies, a => Path.GetFileName(a) == "Orleans.Runtime.dll");
        Assert.Empty(assemblies.Where(a => !ReadyToRunImage.Is(a)).Select(Path.GetFileName));

        // On the image's shared framework: no runtime of its own, no app host.
        Assert.False(File.Exists(Path.Combine(app, "System.Private.CoreLib.dll")), "a self-contained publish");
        Assert.False(File.Exists(Path.Combine(app, Path.GetFileNameWithoutExtension(entryPoint[^1]))), "an app host");
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(app, Path.ChangeExtension(entryPoint[^1], ".runtimeconfig.json"))));
        var frameworks = config.RootElement.GetProperty("runtimeOptions").GetProperty("frameworks").EnumerateArray().Select(f => f.GetProperty("name").GetString()).ToList();
        Assert.Contains("Microsoft.AspNetCore.App", frameworks);
    }

    private static string Option(string[] command, string name)
    {
        var at = Array.IndexOf(command, name);
        Assert.True(at >= 0 && at + 1 < command.Length, $"{command[0]} {command[1]} has no {name} option");
        return command[at + 1];
    }
}
