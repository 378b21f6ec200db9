using System.Diagnostics;
using System.Text.RegularExpressions;

namespace AccessLayer.Gateway.Tests.Deploy;

/// <summary>
/// A Dockerfile build stage run on this host, as far as that goes without a container: a directory of its own stands
/// for the container's file system; WORKDIR, COPY (from the build context) and RUN (with <c>/bin/sh -c</c>, the shell
/// form's shell) run in order, the container paths the commands name (the WORKDIRs and those given) rewritten into that
/// directory. Any other instruction throws: a new one must be taught here, not skipped. The directory is deleted on dispose.
/// </summary>
internal sealed class BuildStageRun : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("accesslayer-build-stage-");
    private readonly List<string> _transcript = [];

    private BuildStageRun()
    {
    }

    public string MapPath(string containerPath) => Path.Combine(_root.FullName, containerPath.TrimStart('/'));

    public string TranscriptTail(int lines)
    {
        lock (_transcript)
        {
            return string.Join(Environment.NewLine, _transcript.TakeLast(lines));
        }
    }

    public static async Task<BuildStageRun> RunAsync(Dockerfile.Stage stage, BuildContext context, IReadOnlyCollection<string> containerPaths, TimeSpan timeout)
    {
        var run = new BuildStageRun();
        try
        {
            using var deadline = new CancellationTokenSource(timeout);
            var paths = stage.All("WORKDIR").Concat(containerPaths).Distinct(StringComparer.Ordinal).OrderByDescending(p => p.Length).ToList();
            var workdir = "/";
            foreach (var instruction in stage.Instructions)
            {
                switch (instruction.Keyword)
                {
                    case "WORKDIR":
                        workdir = instruction.Arguments.StartsWith('/') ? instruction.Arguments : $"{workdir.TrimEnd('/')}/{instruction.Arguments}";
                        Directory.CreateDirectory(run.MapPath(workdir));
                        break;
                    case "COPY":
                        var parts = instruction.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        if (parts.Any(p => p.StartsWith("--", StringComparison.Ordinal)))
                        {
                            throw new NotSupportedException($"COPY {instruction.Arguments}: options are not supported here");
                        }

                        var destination = parts[^1].StartsWith('/') ? parts[^1] : $"{workdir.TrimEnd('/')}/{parts[^1]}";
                        var toDirectory = parts[^1].EndsWith('/') || parts[^1] == "." || parts.Length > 2;
                        foreach (var source in parts[..^1])
                        {
                            context.CopyTo(source, run.MapPath(destination), toDirectory);
                        }

                        break;
                    case "RUN":
                        var command = paths.Aggregate(instruction.Arguments, (text, path) =>
                            Regex.Replace(text, $@"(?<=^|\s){Regex.Escape(path)}(?=[\s/]|$)", run.MapPath(path).Replace("$", "$$", StringComparison.Ordinal)));
                        await run.ShellAsync(command, run.MapPath(workdir), deadline.Token);
                        break;
                    default:
                        throw new NotSupportedException($"{instruction.Keyword} in a build stage is not run here");
                }
            }

            return run;
        }
        catch
        {
            run.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        try
        {
            _root.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task ShellAsync(string command, string directory, CancellationToken cancellation)
    {
        var start = new ProcessStartInfo("/bin/sh") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        // The MSBuild variables dotnet test leaves in the test host's environment would steer the child build; and no
        // build server (MSBuild node, compiler server) may outlive the command, as none outlives a container's RUN.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["UseSharedCompilation"] = "false";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        Append($"$ {command}");
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancellation);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"RUN {command} did not finish in time{Environment.NewLine}{TranscriptTail(60)}");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"RUN {command} exited with {process.ExitCode}{Environment.NewLine}{TranscriptTail(60)}");
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_transcript)
        {
            _transcript.Add(line);
        }
    }
}
