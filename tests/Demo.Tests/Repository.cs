namespace Loadshift.Demo.Tests;

/// <summary>Paths in the checkout under test.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string LabState => Path.Combine(Root, "lab", ".state", "lab.json");

    public static string DemoPids => Path.Combine(Root, "lab", ".state", "demo", "pids");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Stack.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No Stack.sln above {AppContext.BaseDirectory}: run the tests from the checkout.");
    }
}
