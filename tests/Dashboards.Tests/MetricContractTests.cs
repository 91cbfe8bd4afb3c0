using System.Text.RegularExpressions;

namespace Loadshift.Dashboards.Tests;

/// <summary>
/// Every metric name a dashboard or rule reads is published by someone: the Exporter or the Rebalancer (a quoted
/// name in their C# source), the blackbox exporter or Alertmanager (what the real programs expose), Prometheus
/// itself, or a recording rule. A metric renamed on one side only fails here.
/// </summary>
public sealed partial class MetricContractTests
{
    /// <summary>Series Prometheus writes itself for every scrape and alert.</summary>
    private static readonly string[] PrometheusOwn =
    [
        "up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling",
        "scrape_series_added", "ALERTS", "ALERTS_FOR_STATE",
    ];

    [Fact]
    public async Task Every_metric_of_every_dashboard_and_rule_is_published()
    {
        var published = new Dictionary<string, string>(StringComparer.Ordinal);
        void Add(IEnumerable<string> names, string by)
        {
            foreach (var name in names)
            {
                published.TryAdd(name, by);
            }
        }

        Add(Rules.Committed.Where(r => r.IsRecording).Select(r => r.Name), "a recording rule");
        Add(ExporterMetrics, "the Exporter (src/Exporter)");
        Add(RebalancerMetrics, "the Rebalancer (src/Rebalancer)");
        Add(await BlackboxMetricsAsync(), "the blackbox exporter");
        Add(await AlertmanagerMetricsAsync(), "Alertmanager");
        Add(PrometheusOwn, "Prometheus");
        // Sanity: each source contributed what the dashboards are built on.
        Assert.Contains("hypervisor_cpu_seconds_total", published.Keys);
        Assert.Contains("rebalancer_migration_duration_seconds", published.Keys);
        Assert.Contains("probe_icmp_duration_seconds", published.Keys);
        Assert.Contains("alertmanager_notifications_failed_total", published.Keys);

        var unpublished = new List<string>();
        foreach (var query in Expressions.AllSubstituted())
        {
            foreach (var name in PromQl.MetricNames(query.Expr))
            {
                // A histogram's series are its name with _bucket, _sum and _count.
                var family = HistogramSeries().Replace(name, "");
                if (!published.ContainsKey(name) && !published.ContainsKey(family))
                {
                    unpublished.Add($"{query} reads '{name}', which no component publishes");
                }
            }
        }

        Assert.True(unpublished.Count == 0, string.Join('\n', unpublished.Distinct(StringComparer.Ordinal)));
    }

    [Fact]
    public void The_rebalancer_dashboard_reads_the_Rebalancers_metrics()
    {
        // The Rebalancer does not run in the lab test; its panels are checked against its source instead.
        var rebalancer = Dashboard.Committed.Single(d => d.Uid == "loadshift-rebalancer");
        var names = rebalancer.Queries.SelectMany(q => PromQl.MetricNames(q.Expr)).Where(n => n != "up")
            .Select(n => HistogramSeries().Replace(n, "")).Distinct(StringComparer.Ordinal).ToList();

        Assert.Contains("rebalancer_migration_duration_seconds", names);
        Assert.All(names, name => Assert.Contains(name, RebalancerMetrics));
        foreach (var name in new[]
                 {
                     "rebalancer_decisions_total", "rebalancer_migrations_total", "rebalancer_migrations_in_flight",
                     "rebalancer_domains_away_from_home", "rebalancer_domain_migrations_total",
                     "rebalancer_journal_errors_total", "rebalancer_webhook_requests_total", "rebalancer_build_info",
                 })
        {
            Assert.Contains(name, names);
        }
    }

    private static IReadOnlyList<string> ExporterMetrics => QuotedNames("Exporter", "hypervisor_", "libvirt_");

    private static IReadOnlyList<string> RebalancerMetrics => QuotedNames("Rebalancer", "rebalancer_");

    /// <summary>Every "prefix_..." string literal in a project's C# files.</summary>
    private static IReadOnlyList<string> QuotedNames(string project, params string[] prefixes) =>
        [.. Directory.EnumerateFiles(Path.Combine(Repository.Root, "src", project), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => QuotedName().Matches(File.ReadAllText(f)))
            .Select(m => m.Groups["name"].Value)
            .Where(n => prefixes.Any(p => n.StartsWith(p, StringComparison.Ordinal)))
            .Distinct(StringComparer.Ordinal)];

    /// <summary>What the real blackbox exporter, with the committed modules, publishes for an HTTP probe (of its
    /// own page) and an ICMP probe (of 127.0.0.1; needs root or CAP_NET_RAW, as in the lab test).</summary>
    private static async Task<IReadOnlyList<string>> BlackboxMetricsAsync()
    {
        var port = Net.FreePort();
        using var blackbox = new BackgroundProcess("prometheus-blackbox-exporter",
            [$"--config.file={Repository.BlackboxConfig}", $"--web.listen-address=127.0.0.1:{port}"], Repository.Root);
        var url = $"http://127.0.0.1:{port}";
        await Net.WaitUntilReadyAsync($"{url}/-/healthy", blackbox, TimeSpan.FromSeconds(20));

        var http = await Net.Http.GetStringAsync($"{url}/probe?module=http_2xx&target={Uri.EscapeDataString(url + "/")}");
        var icmp = await Net.Http.GetStringAsync($"{url}/probe?module=icmp&target=127.0.0.1");

        Assert.Contains("probe_success 1", http, StringComparison.Ordinal);
        return [.. Exposition(http).Concat(Exposition(icmp)).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>What the real Alertmanager publishes on /metrics (the rules read its notification counters).</summary>
    private static async Task<IReadOnlyList<string>> AlertmanagerMetricsAsync()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.Combine("alertmanager.yml"), "route: {receiver: default}\nreceivers: [{name: default}]\n");
        var port = Net.FreePort();
        using var alertmanager = new BackgroundProcess("prometheus-alertmanager",
        [
            $"--config.file={temp.Combine("alertmanager.yml")}", $"--storage.path={temp.Combine("data")}",
            $"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
        ], temp.Path);
        await Net.WaitUntilReadyAsync($"http://127.0.0.1:{port}/-/ready", alertmanager, TimeSpan.FromSeconds(20));

        return Exposition(await Net.Http.GetStringAsync($"http://127.0.0.1:{port}/metrics"));
    }

    /// <summary>The metric family names of a text exposition (from its TYPE lines and its samples).</summary>
    private static IReadOnlyList<string> Exposition(string text) =>
        [.. text.Split('\n')
            .Select(l => l.StartsWith("# TYPE ", StringComparison.Ordinal) ? l.Split(' ')[2] : l.StartsWith('#') ? "" : SampleName().Match(l).Value)
            .Where(n => n.Length > 0)
            .Distinct(StringComparer.Ordinal)];

    [GeneratedRegex("""
        "(?<name>[a-z_][a-z0-9_]*)"
        """)]
    private static partial Regex QuotedName();

    [GeneratedRegex("""_(bucket|sum|count)$""")]
    private static partial Regex HistogramSeries();

    [GeneratedRegex("""^[a-zA-Z_:][a-zA-Z0-9_:]*""")]
    private static partial Regex SampleName();
}
