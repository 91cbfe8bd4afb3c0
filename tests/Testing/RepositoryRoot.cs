namespace Loadshift.Testing;

/// <summary>The checkout under test (the folder with Stack.sln): tests read the committed files, never copies.</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Stack.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Stack.sln in {AppContext.BaseDirectory} or above it");
    }
}
