namespace Loadshift.Config.Tests;

/// <summary>Paths in the checkout under test: the tests read the committed files, never copies.</summary>
internal static class Repository
{
    public static string Root => RepositoryRoot.Path;

    public static string Prometheus => Path.Combine(Root, "prometheus");

    public static string Alertmanager => Path.Combine(Root, "alertmanager");

    public static string PrometheusConfig => Path.Combine(Prometheus, "prometheus.yml");

    public static string AlertmanagerConfig => Path.Combine(Alertmanager, "alertmanager.yml");

    public static string Runbook => Path.Combine(Root, "docs", "runbook.md");

    public static IReadOnlyList<string> RuleTestFiles =>
        [.. Directory.GetFiles(Path.Combine(Prometheus, "tests"), "*.yml").Order(StringComparer.Ordinal)];
}
