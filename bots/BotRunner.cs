using System.CommandLine;
using AccessLayer.Bots.Cli;
using AccessLayer.Bots.Reporting;
using AccessLayer.Bots.Scenarios;
using AccessLayer.Bots.Workers;
using Spectre.Console;

namespace AccessLayer.Bots;

/// <summary>Runs the scenario a command line asked for and prints its report.</summary>
public static class BotRunner
{
    public static async Task<int> RunAsync(BotCommandLine commandLine, ParseResult parseResult, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        if (!commandLine.TryBind(parseResult, out var options, out var errors))
        {
            foreach (var error in errors)
            {
                await Console.Error.WriteLineAsync(error);
            }

            return 2;
        }

        BotReport report;
        try
        {
            report = await RunAsync(options!, TimeProvider.System, cancellationToken);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 2;
        }

        if (options!.Json)
        {
            await Console.Out.WriteLineAsync(ConsoleReport.ToJson(report));
        }
        else
        {
            ConsoleReport.Write(report, AnsiConsole.Console);
        }

        return report.Connections.Established == 0 ? 1 : 0;
    }

    /// <summary>One run, with the live view when a person is watching.</summary>
    public static async Task<BotReport> RunAsync(BotOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var run = new ScenarioRun(options, time);
        var scenario = options.Scenario switch
        {
            ScenarioKind.Conn when options.Workers > 1 && !options.IsWorkerChild => WorkerPool.RunAsync(run, cancellationToken),
            ScenarioKind.Conn => ConnScenario.RunAsync(run, options.IsWorkerChild ? token => WorkerPool.ChildHoldAsync(options, token) : null, cancellationToken),
            ScenarioKind.MlpRpc when options.MlpClient == MlpClientKind.Lean => MlpLeanRpcScenario.RunAsync(run, cancellationToken),
            ScenarioKind.MlpRpc => MlpRpcScenario.RunAsync(run, cancellationToken),
            ScenarioKind.MlpPush => MlpPushScenario.RunAsync(run, cancellationToken),
            _ => MessagingScenario.RunAsync(run, cancellationToken),
        };
        var intervals = Task.CompletedTask;
        TextWriter? intervalLog = null;
        if (options.Interval > TimeSpan.Zero && !options.IsWorkerChild)
        {
            intervalLog = options.IntervalLog.Length > 0 ? new StreamWriter(options.IntervalLog, append: true) : Console.Error;
            intervals = IntervalReporter.RunAsync(run, options.Interval, intervalLog, scenario);
        }

        try
        {
            if (LiveProgress.ShouldShow(run))
            {
                await LiveProgress.ShowAsync(run, scenario);
            }

            var report = await scenario;
            await intervals;
            return report;
        }
        finally
        {
            if (intervalLog is not null && intervalLog != Console.Error)
            {
                await intervalLog.DisposeAsync();
            }
        }
    }
}
