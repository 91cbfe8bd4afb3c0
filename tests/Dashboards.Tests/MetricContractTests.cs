using System.Text.RegularExpressions;

namespace Loadshift.Dashboards.Tests;

/// <summary>
/// Every metric name a dashboard or rule reads is published by someone: the Exporter or the Rebalancer (a quoted
/// name in their C# source), the blackbox exporter, Alertmanager or Prometheus 2.42 (what the real programs expose),
/// the series Prometheus writes itself, or a recording rule. A metric renamed on one side only fails here.
/// </summary>
public sealed partial class MetricContractTests
{
    /// <summary>Series Prometheus writes itself for every scrape and alert (not on its /metrics).</summary>
    private static readonly string[] PrometheusOwn =
    [
        "up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling",
        "scrape_series_added", "ALERTS", "ALERTS_FOR_STATE",
    ];

    /// <summary>Every published name and who publishes it; the real programs run once for all the tests here.</summary>
    private static readonly Lazy<Task<IReadOnlyDictionary<string, string>>> Published = new(PublishedAsync);

    [Fact]
    public async Task Every_metric_of_every_dashboard_and_rule_is_published()
    {
        var published = await Published.Value;
        // Sanity: each source contributed what the dashboards and the rules are built on.
        Assert.Contains("hypervisor_cpu_seconds_total", published.Keys);
        Assert.Contains("rebalancer_migration_duration_seconds", published.Keys);
        Assert.Contains("probe_icmp_duration_seconds", published.Keys);
        Assert.Contains("alertmanager_notifications_failed_total", published.Keys);
        Assert.Contains("prometheus_notifications_dropped_total", published.Keys);

        var unpublished = Unpublished(Expressions.AllSubstituted(), published);

        Assert.True(unpublished.Count == 0, string.Join('\n', unpublished));
    }

    [Fact]
    public async Task Prometheus_own_health_metrics_come_from_a_running_Prometheus()
    {
        // The names prometheus/rules/prometheus-alerts.yml reads, each from the real /metrics (labelled counters
        // appear there only with a rule group loaded and an Alertmanager discovered).
        var published = await Published.Value;

        foreach (var name in new[]
                 {
                     "prometheus_rule_evaluation_failures_total", "prometheus_notifications_errors_total",
                     "prometheus_notifications_dropped_total", "prometheus_notifications_alertmanagers_discovered",
                 })
        {
            Assert.Equal("Prometheus (its /metrics)", published.GetValueOrDefault(name));
        }
    }

    [Theory]
    [InlineData("prometheus_notification_dropped_total", "prometheus_notifications_dropped_total")]
    [InlineData("prometheus_rule_evaluations_failures_total", "prometheus_rule_evaluation_failures_total")]
    [InlineData("prometheus_notifications_error_total", "prometheus_notifications_errors_total")]
    [InlineData("prometheus_notifications_alertmanager_discovered", "prometheus_notifications_alertmanagers_discovered")]
    public async Task A_misspelt_prometheus_metric_fails_the_contract(string misspelt, string published)
    {
        var names = await Published.Value;
        Query Alert(string name) => new("prometheus/rules/prometheus-alerts.yml", "alert Test", $"increase({name}{{job=\"prometheus\"}}[5m]) > 0");

        var problem = Assert.Single(Unpublished([Alert(misspelt)], names));

        Assert.Contains($"reads '{misspelt}', which no component publishes", problem, StringComparison.Ordinal);
        Assert.Empty(Unpublished([Alert(published)], names));
    }

    /// <summary>Each name a query reads that no one publishes, as a message naming the query.</summary>
    private static IReadOnlyList<string> Unpublished(IEnumerable<Query> queries, IReadOnlyDictionary<string, string> published)
    {
        var unpublished = new List<string>();
        foreach (var query in queries)
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

        return [.. unpublished.Distinct(StringComparer.Ordinal)];
    }

    private static async Task<IReadOnlyDictionary<string, string>> PublishedAsync()
    {
        var published = new Dictionary<string, string>(StringComparer.Ordinal);
        void Add(IEnumerable<string> names, string by)
        {
            foreach (var name in names)
            {
                published.TryAdd(name, by);
            }
        }

        Add(Rule.Committed.Where(r => r.IsRecording).Select(r => r.Name), "a recording rule");
        Add(ExporterMetrics, "the Exporter (src/Exporter)");
        Add(RebalancerMetrics, "the Rebalancer (src/Rebalancer)");
        Add(await BlackboxMetricsAsync(), "the blackbox exporter");
        Add(await AlertmanagerMetricsAsync(), "Alertmanager");
        Add(await PrometheusMetricsAsync(), "Prometheus (its /metrics)");
        Add(PrometheusOwn, "Prometheus");
        return published;
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
                     "rebalancer_move_verdicts_total",
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
        var port = Loopback.FreePort();
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
        var port = Loopback.FreePort();
        using var alertmanager = new BackgroundProcess("prometheus-alertmanager",
        [
            $"--config.file={temp.Combine("alertmanager.yml")}", $"--storage.path={temp.Combine("data")}",
            $"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
        ], temp.Path);
        await Net.WaitUntilReadyAsync($"http://127.0.0.1:{port}/-/ready", alertmanager, TimeSpan.FromSeconds(20));

        return Exposition(await Net.Http.GetStringAsync($"http://127.0.0.1:{port}/metrics"));
    }

    /// <summary>What the real Prometheus publishes on /metrics about itself (the rules on its own health read it).
    /// Its per-rule-group and per-Alertmanager counters appear only with a rule group loaded and an Alertmanager
    /// discovered: one recording rule, and an Alertmanager address on a free loopback port. No alert fires, so
    /// nothing is ever sent there.</summary>
    private static async Task<IReadOnlyList<string>> PrometheusMetricsAsync()
    {
        using var temp = new TempDirectory();
        var alertmanagerPort = Loopback.FreePort();
        File.WriteAllText(temp.Combine("prometheus.yml"), $$"""
            global: {evaluation_interval: 1s}
            rule_files: [rules.yml]
            alerting:
              alertmanagers:
                - static_configs: [{targets: ['127.0.0.1:{{alertmanagerPort}}']}]
            """);
        File.WriteAllText(temp.Combine("rules.yml"), """
            groups:
              - name: contract
                rules:
                  - record: contract:vector:one
                    expr: vector(1)
            """);
        var port = Loopback.FreePort();
        using var prometheus = new BackgroundProcess("prometheus",
        [
            $"--config.file={temp.Combine("prometheus.yml")}", $"--storage.tsdb.path={temp.Combine("data")}",
            $"--web.listen-address=127.0.0.1:{port}",
        ], temp.Path);
        var url = $"http://127.0.0.1:{port}";
        await Net.WaitUntilReadyAsync($"{url}/-/ready", prometheus, TimeSpan.FromSeconds(30));

        // The Alertmanager's counters appear with the notifier's first discovery update, a few seconds after start.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var text = await Net.Http.GetStringAsync($"{url}/metrics");
            if (text.Contains("prometheus_notifications_errors_total{", StringComparison.Ordinal)
                && text.Contains("prometheus_rule_evaluation_failures_total{", StringComparison.Ordinal))
            {
                return Exposition(text);
            }

            Assert.False(prometheus.HasExited, $"prometheus exited:\n{prometheus.Output}");
            Assert.True(DateTime.UtcNow < deadline, $"{url}/metrics has no Alertmanager or rule group counters:\n{text}");
            await Task.Delay(500);
        }
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
