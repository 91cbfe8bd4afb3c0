namespace Loadshift.Dashboards.Tests;

/// <summary>Paths in the checkout under test: the tests read the committed files, never copies.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Grafana => Path.Combine(Root, "grafana");

    public static string Prometheus => Path.Combine(Root, "prometheus");

    public static string BlackboxConfig => Path.Combine(Prometheus, "blackbox", "blackbox.yml");

    public static string RenderPng => Path.Combine(Grafana, "render-png");

    public static string LabState => Path.Combine(Root, "lab", ".state", "lab.json");

    public static IReadOnlyList<string> DashboardFiles =>
        [.. Directory.GetFiles(Path.Combine(Grafana, "dashboards"), "*.json").Order(StringComparer.Ordinal)];

    public static IReadOnlyList<string> RuleFiles =>
        [.. Directory.GetFiles(Path.Combine(Prometheus, "rules"), "*.yml").Order(StringComparer.Ordinal)];

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
