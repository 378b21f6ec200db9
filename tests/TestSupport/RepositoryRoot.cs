namespace AccessLayer.Tests.Shared;

/// <summary>The checkout the tests run from: the first directory above the test binaries that holds AccessLayer.sln.</summary>
internal static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "AccessLayer.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("AccessLayer.sln not found above " + AppContext.BaseDirectory);
    }
}
