namespace AccessLayer.Gateway.Tests.Deploy;

/// <summary>
/// The build context deploy/Dockerfile is built from: the repository root minus what .dockerignore names. Only the
/// pattern forms that file uses are understood (<c>**/dir/</c>; <c>name</c>, <c>dir/</c> and <c>*.ext</c> at the root,
/// as Docker matches them); any other throws, so a new form is not silently ignored.
/// </summary>
internal sealed class BuildContext
{
    private readonly HashSet<string> _anyDirectory = new(StringComparer.Ordinal);
    private readonly HashSet<string> _rootEntries = new(StringComparer.Ordinal);
    private readonly List<string> _extensions = [];

    private BuildContext(string root, IEnumerable<string> patterns)
    {
        Root = root;
        foreach (var pattern in patterns)
        {
            if (pattern.StartsWith("**/", StringComparison.Ordinal) && pattern.EndsWith('/') && pattern.Count(c => c == '/') == 2 && !pattern[3..].Contains('*', StringComparison.Ordinal))
            {
                _anyDirectory.Add(pattern[3..^1]);
            }
            else if (pattern.StartsWith("*.", StringComparison.Ordinal) && !pattern[2..].Contains('*', StringComparison.Ordinal) && !pattern.Contains('/', StringComparison.Ordinal))
            {
                _extensions.Add(pattern[1..]);
            }
            else if (!pattern.Contains('*', StringComparison.Ordinal) && pattern.TrimEnd('/').Split('/').Length == 1)
            {
                _rootEntries.Add(pattern.TrimEnd('/'));
            }
            else
            {
                throw new NotSupportedException($".dockerignore pattern '{pattern}' is not one BuildContext understands");
            }
        }
    }

    public string Root { get; }

    public static BuildContext Load(string root) =>
        new(root, File.ReadAllLines(Path.Combine(root, ".dockerignore")).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')));

    /// <summary>Whether a path (relative to the root, '/'-separated) is left out of the context.</summary>
    public bool Ignores(string relativePath, bool isDirectory)
    {
        var parts = relativePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length > 0 && _rootEntries.Contains(parts[0]))
        {
            return true;
        }

        var directories = isDirectory ? parts : parts[..^1];
        return directories.Any(_anyDirectory.Contains)
            || (!isDirectory && parts.Length == 1 && _extensions.Any(e => parts[0].EndsWith(e, StringComparison.Ordinal)));
    }

    /// <summary>Copies a file or directory of the context to <paramref name="destination"/> as COPY does (a directory's contents, not the directory; existing files overwritten).</summary>
    public void CopyTo(string source, string destination, bool destinationIsDirectory)
    {
        var relative = source.TrimEnd('/');
        var full = Path.Combine(Root, relative);
        if (Directory.Exists(full))
        {
            if (Ignores(relative, isDirectory: true))
            {
                throw new InvalidOperationException($"COPY {source}: .dockerignore leaves it out of the build context");
            }

            foreach (var file in Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories))
            {
                var inContext = Path.GetRelativePath(Root, file).Replace('\\', '/');
                if (!Ignores(inContext, isDirectory: false))
                {
                    var target = Path.Combine(destination, Path.GetRelativePath(full, file));
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    File.Copy(file, target, overwrite: true);
                }
            }
        }
        else if (File.Exists(full) && !Ignores(relative, isDirectory: false))
        {
            var target = destinationIsDirectory ? Path.Combine(destination, Path.GetFileName(full)) : destination;
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(full, target, overwrite: true);
        }
        else
        {
            throw new FileNotFoundException($"COPY {source}: not in the build context", full);
        }
    }
}
