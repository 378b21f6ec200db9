using System.Text.Json;
using AccessLayer.Gateway.Tests.Conformance.Harness;

namespace AccessLayer.Gateway.Tests.Deploy;

/// <summary>deploy/Dockerfile as instructions per build stage (continuation lines joined, comments dropped).</summary>
internal sealed class Dockerfile
{
    private Dockerfile(IReadOnlyList<Stage> stages) => Stages = stages;

    public sealed record Instruction(string Keyword, string Arguments);

    public sealed record Stage(string From, string? Name, IReadOnlyList<Instruction> Instructions)
    {
        public IEnumerable<string> All(string keyword) =>
            Instructions.Where(i => i.Keyword.Equals(keyword, StringComparison.OrdinalIgnoreCase)).Select(i => i.Arguments);
    }

    public IReadOnlyList<Stage> Stages { get; }

    /// <summary>The stage the image is made of: the last one.</summary>
    public Stage Runtime => Stages[^1];

    public static string PathInRepository => Path.Combine(PeerPaths.RepoRoot, "deploy", "Dockerfile");

    public static Dockerfile Load() => Parse(File.ReadAllText(PathInRepository));

    public static Dockerfile Parse(string text)
    {
        var lines = new List<string>();
        var current = string.Empty;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                current += line[..^1] + " ";
                continue;
            }

            current += line;
            if (current.Trim().Length > 0)
            {
                lines.Add(current.Trim());
            }

            current = string.Empty;
        }

        var stages = new List<Stage>();
        List<Instruction>? instructions = null;
        foreach (var line in lines)
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var keyword = space < 0 ? line : line[..space];
            var arguments = space < 0 ? string.Empty : line[(space + 1)..].Trim();
            if (keyword.Equals("FROM", StringComparison.OrdinalIgnoreCase))
            {
                var parts = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                instructions = [];
                stages.Add(new Stage(parts[0], parts.Length >= 3 && parts[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? parts[2] : null, instructions));
            }
            else
            {
                (instructions ?? throw new FormatException($"'{keyword}' before the first FROM")).Add(new Instruction(keyword.ToUpperInvariant(), arguments));
            }
        }

        return new Dockerfile(stages);
    }

    /// <summary>The exec-form (JSON array) command of a HEALTHCHECK, after its options.</summary>
    public static IReadOnlyList<string> ExecForm(string healthcheck)
    {
        var cmd = healthcheck.IndexOf("CMD ", StringComparison.Ordinal);
        if (cmd < 0)
        {
            throw new FormatException($"no CMD in HEALTHCHECK {healthcheck}");
        }

        return JsonSerializer.Deserialize<string[]>(healthcheck[(cmd + 4)..].Trim()) ?? throw new FormatException("HEALTHCHECK CMD is not an exec-form array");
    }
}
