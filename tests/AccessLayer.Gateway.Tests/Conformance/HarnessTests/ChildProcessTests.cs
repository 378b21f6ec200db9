using AccessLayer.Gateway.Tests.Conformance.Harness;

namespace AccessLayer.Gateway.Tests.Conformance.HarnessTests;

public sealed class ChildProcessTests
{
    [Fact]
    public async Task WaitForLine_returns_the_first_match_at_or_after_the_start_index()
    {
        await using var process = ChildProcess.Start("printf", "/usr/bin/printf", ["a1\\nb2\\na3\\n"]);

        var (index, line) = await process.WaitForLineAsync(l => l.StartsWith('a'), Budget.Wait, from: 1);

        Assert.Equal((2, "a3"), (index, line));
    }

    [Fact]
    public async Task WaitForLine_fails_at_once_when_the_process_ends_without_the_line()
    {
        await using var process = ChildProcess.Start("true", "/usr/bin/true", []);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => process.WaitForLineAsync(_ => true, TimeSpan.FromSeconds(30)));

        Assert.Contains("the source ended first", error.Message);
    }

    [Fact]
    public async Task Process_is_killed_when_its_lifetime_ends()
    {
        await using var process = ChildProcess.Start("sleep", "/usr/bin/sleep", ["30"], new ChildProcessOptions { Lifetime = TimeSpan.FromMilliseconds(200) });

        var error = await Assert.ThrowsAsync<TimeoutException>(() => process.WaitForExitAsync(TimeSpan.FromSeconds(10)));

        Assert.Contains("lifetime", error.Message);
        Assert.True(process.HasExited);
    }

    [Fact]
    public async Task Standard_input_lines_reach_the_process_and_its_transcript()
    {
        await using var process = ChildProcess.Start("cat", "/usr/bin/cat", [], new ChildProcessOptions { RedirectStandardInput = true });

        await process.WriteLineAsync("hello");
        await process.WaitForLineAsync(l => l == "hello", Budget.Wait);
        process.CloseStandardInput();

        Assert.Equal(0, await process.WaitForExitAsync(Budget.Wait));
        Assert.Contains(process.Transcript(), l => l.EndsWith("in: hello", StringComparison.Ordinal));
        Assert.Contains(process.Transcript(), l => l.EndsWith("out: hello", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_process_that_dies_with_the_test_host_ends_when_its_stdin_closes()
    {
        await using var process = ChildProcess.Start("sleep", "/usr/bin/sleep", ["30"], new ChildProcessOptions { DieWithTestHost = true });
        await Wall.PassAsync(TimeSpan.FromMilliseconds(300));
        Assert.False(process.HasExited);

        process.CloseStandardInput(); // what the OS does when the test host dies

        Assert.NotEqual(0, await process.WaitForExitAsync(Budget.Wait));
    }
}
