namespace Loadshift.Demo.Tests;

/// <summary>Paths in the checkout under test.</summary>
internal static class Repository
{
    public static string DemoPids => Path.Combine(RepositoryRoot.Path, "lab", ".state", "demo", "pids");
}
