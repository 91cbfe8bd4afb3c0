using System.Text.RegularExpressions;

namespace Loadshift.Config.Tests;

/// <summary>
/// The conventions of docs/style.md's alerting section and the contracts with the Rebalancer and the exporter,
/// checked on the committed rule files.
/// </summary>
public sealed partial class RuleConventionTests
{
    /// <summary>
    /// Metric names no project source publishes: Prometheus' own, Alertmanager's and the blackbox exporter's
    /// (the service-quality probes; tests/Dashboards.Tests checks these names against a running Prometheus 2.42,
    /// Alertmanager and blackbox exporter). Everything else a rule reads must appear as a quoted name in the Exporter's or the Rebalancer's
    /// source, so that renaming a metric on one side only fails this test.
    /// </summary>
    private static readonly HashSet<string> OtherPublishedMetrics = new(StringComparer.Ordinal)
    {
        "up",
        "prometheus_rule_evaluation_failures_total",
        "prometheus_notifications_dropped_total",
        "prometheus_notifications_errors_total",
        "prometheus_notifications_alertmanagers_discovered",
        "alertmanager_notifications_failed_total",
        "alertmanager_notifications_total",
        "probe_success",
        "probe_http_duration_seconds",
        "probe_icmp_duration_seconds",
    };

    [Fact]
    public void The_Rebalancers_recording_rules_exist()
    {
        var records = Rule.Committed.Select(r => r.Record).OfType<string>().ToList();

        Assert.Contains("host:hypervisor_cpu_busy:ratio_rate1m", records);
        Assert.Contains("host_domain:libvirt_domain_cpu:ratio_rate1m", records);
    }

    [Fact]
    public void Recording_rules_are_named_level_metric_operations_and_kept_apart_from_alerts()
    {
        foreach (var file in Rule.Files)
        {
            var rules = Rule.Load(file);
            Assert.True(rules.All(r => r.Record is not null) || rules.All(r => r.Alert is not null),
                $"{file} mixes recording rules and alerts");
        }

        foreach (var rule in Rule.Committed.Where(r => r.Record is not null))
        {
            Assert.Matches(LevelMetricOperations(), rule.Record!);
        }
    }

    [Fact]
    public void Alerts_carry_severity_summary_description_and_a_runbook_section()
    {
        var runbookAnchors = RunbookSections().Select(s => s.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);

        foreach (var alert in Rule.CommittedAlerts)
        {
            Assert.Matches(AlertName(), alert.Alert!);
            Assert.Contains(alert.Labels.GetValueOrDefault("severity"), new[] { "warning", "critical" });
            Assert.False(string.IsNullOrWhiteSpace(alert.Annotations.GetValueOrDefault("summary")), $"{alert}: summary");
            Assert.DoesNotContain("{{", alert.Annotations["summary"], StringComparison.Ordinal);
            var description = alert.Annotations.GetValueOrDefault("description") ?? "";
            Assert.True(description.Contains("$labels", StringComparison.Ordinal) || description.Contains("$value", StringComparison.Ordinal),
                $"{alert}: the description should name what fired ($labels or $value)");
            Assert.Equal($"docs/runbook.md#{alert.Alert!.ToLowerInvariant()}", alert.Annotations.GetValueOrDefault("runbook_url"));
            Assert.Contains(alert.Alert!.ToLowerInvariant(), runbookAnchors);
        }
    }

    [Fact]
    public void Every_runbook_section_belongs_to_an_alert()
    {
        var alerts = Rule.CommittedAlerts.Select(a => a.Alert!).Order(StringComparer.Ordinal);

        Assert.Equal(alerts, RunbookSections().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void HypervisorCpuHigh_is_the_80_percent_rule_held_2m_routed_to_the_rebalancer()
    {
        var alert = Rule.CommittedAlerts.Single(a => a.Alert == "HypervisorCpuHigh");

        Assert.Equal("host:hypervisor_cpu_busy:ratio_rate1m > 0.80", alert.Expr.Trim());
        Assert.Equal("2m", alert.For);
        Assert.Equal("rebalance", alert.Labels["action"]);
        // Hysteresis in time: as long to resolve as to fire (prometheus/tests/hypervisor-alerts.test.yml has the
        // dip and the scrape gap it rides out).
        Assert.Equal(alert.For, alert.KeepFiringFor);
    }

    [Theory]
    [InlineData("inventory.example.yaml")]
    [InlineData("inventory.lab.yaml")]
    public void HypervisorCpuHigh_fires_at_the_Rebalancers_high_watermark_above_its_low_one(string inventory)
    {
        // The alert asks for relief above the threshold, and the Rebalancer relieves only above its high watermark:
        // a different number either moves nothing for a firing alert or never hears of a host it would relieve.
        // Its low watermark, for the way home, lies below: the band between them is the hysteresis.
        var alert = Rule.CommittedAlerts.Single(a => a.Alert == "HypervisorCpuHigh");
        var threshold = double.Parse(alert.Expr.Split('>')[1].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var policy = Yaml.Load(Path.Combine(Repository.Root, "src", "Rebalancer", inventory)).Map("policy");
        var high = double.Parse(policy.Str("highWatermark")!, System.Globalization.CultureInfo.InvariantCulture);
        var low = double.Parse(policy.Str("lowWatermark")!, System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(threshold, high);
        Assert.True(low < high, $"{inventory}: lowWatermark {low} is not below highWatermark {high}");
        Assert.Equal(alert.Alert, policy.Str("alertName") ?? alert.Alert);
    }

    [Theory]
    [InlineData("inventory.example.yaml")]
    [InlineData("inventory.lab.yaml")]
    public void HypervisorMemoryHigh_fires_at_the_Rebalancers_memory_high_watermark(string inventory)
    {
        // As for CPU: the alert asks for a memory relief above its threshold, and the Rebalancer relieves (and keeps
        // every target) only under policy.memoryHighWatermark; two numbers would either move nothing or miss a host.
        var alert = Rule.CommittedAlerts.Single(a => a.Alert == "HypervisorMemoryHigh");
        var threshold = double.Parse(alert.Expr.Split('>')[1].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var policy = Yaml.Load(Path.Combine(Repository.Root, "src", "Rebalancer", inventory)).Map("policy");

        Assert.Equal(threshold, double.Parse(policy.Str("memoryHighWatermark")!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(alert.Alert, policy.Str("memoryAlertName") ?? alert.Alert);
    }

    [Fact]
    public void A_jobs_down_alert_has_an_absent_companion()
    {
        // up == 0 cannot fire for a job that has no target at all (an empty targets file, a configuration without
        // the job): some alert must then fire on absent(up{job=...}).
        var alerts = Rule.CommittedAlerts;
        var downJobs = alerts.SelectMany(a => UpIsZero().Matches(a.Expr)).Select(m => m.Groups["job"].Value).Distinct(StringComparer.Ordinal).ToList();

        Assert.Contains("hypervisor", downJobs);
        Assert.Contains("rebalancer", downJobs);
        foreach (var job in downJobs)
        {
            Assert.True(alerts.Any(a => a.Expr.Contains($"absent(up{{job=\"{job}\"}})", StringComparison.Ordinal)),
                $"job {job} has an up == 0 alert but no absent(up{{job=\"{job}\"}})");
        }
    }

    [Fact]
    public void Rate_windows_hold_at_least_four_scrape_intervals()
    {
        // With fewer, one failed scrape leaves a window with a single sample, and the rate (the busy ratio) is gone.
        var scrapeInterval = Duration(Yaml.Load(Repository.PrometheusConfig).Map("global").Str("scrape_interval")!);
        var ranges = Rule.Committed.SelectMany(r => PromQl.RateRanges(r.Expr).Select(x => (Rule: r, x.Function, x.Range))).ToList();

        Assert.Contains(ranges, r => r.Rule.Record == "host:hypervisor_cpu_busy:ratio_rate1m");
        foreach (var (rule, function, range) in ranges)
        {
            Assert.True(Duration(range) >= 4 * scrapeInterval, $"{rule}: {function}(...[{range}]) holds fewer than 4 scrapes of {scrapeInterval}");
        }
    }

    [Fact]
    public void An_alert_without_for_counts_events_over_a_window()
    {
        // A gauge compared without `for` fires on one odd sample; an alert may go without `for` only when its
        // expression counts events (increase over a window), which holds it for the window's length.
        foreach (var alert in Rule.CommittedAlerts.Where(a => a.For is null))
        {
            Assert.True(PromQl.RateRanges(alert.Expr).Any(r => r.Function == "increase"), $"{alert}: no `for` and no increase()");
        }
    }

    [Theory]
    [InlineData("15s", 15)]
    [InlineData("1m", 60)]
    [InlineData("1h", 3600)]
    [InlineData("1m30s", 90)]
    public void Durations_are_read_as_prometheus_writes_them(string text, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), Duration(text));
    }

    /// <summary>A Prometheus duration of the forms the rules use (1m30s, 15m, 1h).</summary>
    private static TimeSpan Duration(string text)
    {
        var match = DurationPattern().Match(text);
        Assert.True(match.Success, $"'{text}' is not a duration");
        var total = TimeSpan.Zero;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var unit = part.Value.TrimStart("0123456789".ToCharArray());
            var number = int.Parse(part.Value[..^unit.Length], System.Globalization.CultureInfo.InvariantCulture);
            total += unit switch
            {
                "ms" => TimeSpan.FromMilliseconds(number),
                "s" => TimeSpan.FromSeconds(number),
                "m" => TimeSpan.FromMinutes(number),
                "h" => TimeSpan.FromHours(number),
                "d" => TimeSpan.FromDays(number),
                _ => throw new InvalidOperationException(unit),
            };
        }

        return total;
    }

    [Fact]
    public void Every_alert_is_pinned_by_a_promtool_unit_test()
    {
        var tests = string.Join('\n', Repository.RuleTestFiles.Select(File.ReadAllText));

        foreach (var alert in Rule.CommittedAlerts)
        {
            Assert.Contains($"alertname: {alert.Alert}\n        exp_alerts:\n          - exp_labels:", tests, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Rules_read_only_published_metrics()
    {
        var known = new HashSet<string>(OtherPublishedMetrics, StringComparer.Ordinal);
        known.UnionWith(Rule.Committed.Select(r => r.Record).OfType<string>());
        known.UnionWith(QuotedMetricNames(Path.Combine(Repository.Root, "src", "Exporter"), "hypervisor_", "libvirt_"));
        known.UnionWith(QuotedMetricNames(Path.Combine(Repository.Root, "src", "Rebalancer"), "rebalancer_"));
        Assert.Contains("hypervisor_cpu_seconds_total", known);
        Assert.Contains("rebalancer_migrations_total", known);

        foreach (var rule in Rule.Committed)
        {
            foreach (var name in PromQl.MetricNames(rule.Expr))
            {
                Assert.True(known.Contains(name), $"{rule} reads '{name}', which no component publishes");
            }
        }
    }

    [Theory]
    [InlineData("sum by (host) (rate(x_total{mode=\"idle\"}[1m])) / on (host) group_left () y", "x_total y")]
    [InlineData("increase(a_total{r=~\"f|t\"}[15m]) > 0 or (a_total > 0 unless a_total offset 15m)", "a_total a_total a_total")]
    [InlineData("host:b:ratio > 0.80", "host:b:ratio")]
    public void Metric_names_are_found_in_an_expression(string expr, string expected)
    {
        Assert.Equal(expected.Split(' '), PromQl.MetricNames(expr));
    }

    /// <summary>Every "prefix_..." string literal in a source tree's C# files.</summary>
    private static IEnumerable<string> QuotedMetricNames(string sourceTree, params string[] prefixes) =>
        Directory.EnumerateFiles(sourceTree, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => QuotedName().Matches(File.ReadAllText(f)))
            .Select(m => m.Groups["name"].Value)
            .Where(n => prefixes.Any(p => n.StartsWith(p, StringComparison.Ordinal)));

    private static IEnumerable<string> RunbookSections() =>
        File.ReadLines(Repository.Runbook).Where(l => l.StartsWith("## ", StringComparison.Ordinal)).Select(l => l[3..].Trim());

    [GeneratedRegex("^[a-z][a-z_]*:[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$")]
    private static partial Regex LevelMetricOperations();

    [GeneratedRegex("^(Hypervisor|Rebalancer|Alertmanager|Prometheus)[A-Z][A-Za-z]+$")]
    private static partial Regex AlertName();

    [GeneratedRegex("""
        "(?<name>[a-z_][a-z0-9_]*)"
        """)]
    private static partial Regex QuotedName();

    [GeneratedRegex("""up\{job="(?<job>[a-z_]+)"\}\s*==\s*0""")]
    private static partial Regex UpIsZero();

    [GeneratedRegex("^(?<part>[0-9]+(ms|s|m|h|d))+$")]
    private static partial Regex DurationPattern();
}
