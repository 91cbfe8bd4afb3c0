namespace Loadshift.Dashboards.Tests;

/// <summary>Paths in the checkout under test: the tests read the committed files, never copies.</summary>
internal static class Repository
{
    public static string Root => RepositoryRoot.Path;

    public static string Grafana => Path.Combine(Root, "grafana");

    public static string Prometheus => Path.Combine(Root, "prometheus");

    public static string BlackboxConfig => Path.Combine(Prometheus, "blackbox", "blackbox.yml");

    public static string RenderPng => Path.Combine(Grafana, "render-png");

    public static IReadOnlyList<string> DashboardFiles => Dashboard.Files;
}
