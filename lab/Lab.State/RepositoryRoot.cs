namespace Loadshift.Lab;

/// <summary>The checkout a program runs from: the folder with Stack.sln at or above the program's own folder. The lab's
/// state is in its lab/.state (lab/up writes it there); tests read its committed files, never copies.</summary>
public static class RepositoryRoot
{
    private static readonly Lazy<string> Found = new(() => Find(AppContext.BaseDirectory));

    /// <summary>The checkout of this program; fails, naming the folder searched from, when it runs outside one.</summary>
    public static string Path => Found.Value;

    /// <summary>The nearest folder at or above <paramref name="directory"/> holding Stack.sln.</summary>
    public static string Find(string directory)
    {
        for (var dir = new DirectoryInfo(directory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Stack.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Stack.sln in {directory} or above it: run from a checkout of the repository");
    }
}
