using System.Globalization;

namespace AccessLayer.Gateway.Security;

/// <summary>
/// <c>AccessLayer.Gateway hash-password [--iterations N] [USER]</c>: reads a password from the
/// first line of stdin and prints a password-file line (<c>USER:$pbkdf2-sha256$...</c>), or the
/// bare hash without a user.
/// </summary>
public static class PasswordTool
{
    public static int Run(string[] args, TextReader input, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var iterations = PasswordHash.DefaultIterations;
        string? user = null;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--iterations" && i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
            {
                iterations = n;
                i++;
            }
            else if (user is null && !args[i].StartsWith('-') && !args[i].Contains(':', StringComparison.Ordinal))
            {
                user = args[i];
            }
            else
            {
                error.WriteLine("usage: hash-password [--iterations N] [USER]   (password on stdin)");
                return 2;
            }
        }

        var password = input.ReadLine();
        if (string.IsNullOrEmpty(password))
        {
            error.WriteLine("hash-password: no password on stdin");
            return 2;
        }

        var hash = PasswordHash.Create(password, iterations);
        output.WriteLine(user is null ? hash : user + ":" + hash);
        return 0;
    }
}
