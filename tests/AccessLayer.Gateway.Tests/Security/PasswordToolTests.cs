using System.Text;
using AccessLayer.Gateway.Security;

namespace AccessLayer.Gateway.Tests.Security;

public sealed class PasswordToolTests
{
    [Fact]
    public void Prints_a_password_file_line_that_the_file_accepts()
    {
        var output = new StringWriter();
        var code = PasswordTool.Run(["--iterations", "2000", "alice"], new StringReader("hunter2\n"), output, new StringWriter());
        Assert.Equal(0, code);
        var line = output.ToString().Trim();
        Assert.StartsWith("alice:$pbkdf2-sha256$2000$", line, StringComparison.Ordinal);
        Assert.True(PasswordFile.Parse([line]).Verify("alice", Encoding.UTF8.GetBytes("hunter2")));
    }

    [Fact]
    public void Refuses_an_empty_password_and_bad_arguments()
    {
        Assert.Equal(2, PasswordTool.Run([], new StringReader(""), new StringWriter(), new StringWriter()));
        Assert.Equal(2, PasswordTool.Run(["a:b"], new StringReader("x"), new StringWriter(), new StringWriter()));
    }

    [Fact]
    public async Task The_gateway_binary_runs_it_as_hash_password()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "AccessLayer.Gateway.dll");
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { dll, "hash-password", "--iterations", "1000", "bob" })
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(psi)!;
        await process.StandardInput.WriteLineAsync("pw");
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(0, process.ExitCode);
        Assert.True(PasswordFile.Parse([output.Trim()]).Verify("bob", Encoding.UTF8.GetBytes("pw")));
    }
}
