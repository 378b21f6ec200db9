using System.Text.Json;
using System.Text.RegularExpressions;
using AccessLayer.Bots.Cli;
using AccessLayer.Bots.Tests.EndToEnd;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Bots.Tests.Bench;

/// <summary>
/// deploy/pack.sh packs accesslayer-bots and mlpcurl as .NET tools into a folder; `dotnet tool install
/// --tool-path` installs them from it, as docs/quickstart.md tells a newcomer to. The installed tools run from
/// the tool path (their assemblies and the system libzstd found there), and --help gives an example command
/// line for every scenario and command.
/// </summary>
public sealed partial class ToolPackagingTests : IClassFixture<InstalledTools>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly InstalledTools _tools;

    public ToolPackagingTests(InstalledTools tools)
    {
        _tools = tools;
    }

    [Fact]
    public async Task Bots_help_shows_every_scenario_with_an_example_that_parses()
    {
        var (code, help, _) = await RepositoryProcess.RunAsync(_tools.Bots, ["--help"], Bound);

        Assert.Equal(0, code);
        Assert.NotEmpty(BotCommandLine.Scenarios);
        foreach (var (name, _, _, example) in BotCommandLine.Scenarios)
        {
            Assert.Contains($"{BotCommandLine.ToolCommand} {example}", help, StringComparison.Ordinal);
            Assert.StartsWith(name + " ", example, StringComparison.Ordinal);
            // An example that the bots would refuse teaches nothing.
            Assert.True(new BotCommandLine().TryParse(example.Split(' '), out _, out var errors), name + ": " + string.Join("; ", errors));
        }

        // Every command the parser knows is among them: a scenario added without an example fails here.
        Assert.Equal(BotCommandLine.Scenarios.Select(s => s.Name), new BotCommandLine().Root.Subcommands.Select(c => c.Name));
    }

    [Fact]
    public async Task Mlpcurl_help_shows_every_command_with_an_example()
    {
        var (code, help, _) = await RepositoryProcess.RunAsync(_tools.Mlpcurl, ["--help"], Bound);

        Assert.Equal(0, code);
        var commands = CommandRow().Matches(help[help.IndexOf("Commands:", StringComparison.Ordinal)..]).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(["call", "token", "types"], commands);
        foreach (var command in commands)
        {
            Assert.Matches($@"\n\s+mlpcurl {command}( |\n)", help);
        }
    }

    [Fact]
    public async Task The_installed_tools_run_from_the_tool_path_against_a_gateway_with_native_zstd()
    {
        using var gateway = new GatewayProcess(mqtt: true);
        // A body zstd shrinks: the request goes out compressed through the system libzstd.so.1, loaded from the tool's folder.
        var body = string.Concat(Enumerable.Repeat("{\"sensor\":\"t1\",\"value\":21.5}", 100));
        var (code, output, error) = await RepositoryProcess.RunAsync(_tools.Mlpcurl,
            ["call", "echo", "ping", "--gateway", $"tcp://127.0.0.1:{gateway.MlpPort}", "--secret", GatewayProcess.TokenSecret, "--data", body], Bound);

        Assert.True(code == 0, output + error);
        Assert.Contains("status: 200", output, StringComparison.Ordinal);
        Assert.Contains("compression: request zstd", output, StringComparison.Ordinal);

        (code, output, error) = await RepositoryProcess.RunAsync(_tools.Bots,
            ["p2p", "--port", gateway.MqttPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--count", "2", "--qos", "1", "--messages", "20", "--rate", "100", "--duration", "5", "--warmup", "0", "--drain", "3", "--json", "--quiet"], Bound);

        Assert.True(code == 0, output + error);
        using var report = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        Assert.Equal(4, report.RootElement.GetProperty("connections").GetProperty("established").GetInt32());
        Assert.Equal(40, report.RootElement.GetProperty("messages").GetProperty("received").GetInt64());
    }

    [GeneratedRegex(@"(?m)^  ([a-z-]+)\b")]
    private static partial Regex CommandRow();
}

/// <summary>Packs the tools (deploy/pack.sh --no-build: the Release build the tests were built with) and installs both into a temporary tool path.</summary>
public sealed class InstalledTools : IAsyncLifetime
{
    private static readonly TimeSpan PackBound = TimeSpan.FromMinutes(4);
    private readonly string _directory = Directory.CreateTempSubdirectory("accesslayer-tools-").FullName;

    public string Bots => Path.Combine(_directory, "tools", BotCommandLine.ToolCommand);

    public string Mlpcurl => Path.Combine(_directory, "tools", "mlpcurl");

    public async Task InitializeAsync()
    {
        var feed = Path.Combine(_directory, "feed");
        var pack = await RepositoryProcess.RunAsync("bash", [Path.Combine(RepositoryRoot.Path, "deploy", "pack.sh"), "--no-build", "--output", feed], PackBound);
        Assert.True(pack.ExitCode == 0, "deploy/pack.sh failed: " + pack.Output + pack.Error);
        foreach (var id in new[] { "AccessLayer.Bots", "AccessLayer.Mlpcurl" })
        {
            var install = await RepositoryProcess.RunAsync("dotnet", ["tool", "install", "--tool-path", Path.Combine(_directory, "tools"), "--add-source", feed, "--ignore-failed-sources", id], PackBound);
            Assert.True(install.ExitCode == 0, $"dotnet tool install {id} failed: " + install.Output + install.Error);
        }
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }
}
