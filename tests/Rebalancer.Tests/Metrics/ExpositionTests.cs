using Loadshift.Rebalancer.Metrics;

namespace Loadshift.Rebalancer.Tests.Metrics;

public sealed class ExpositionTests
{
    [Fact]
    public void Counters_gauges_and_histograms_are_written_in_text_format_0_0_4()
    {
        var registry = new MetricsRegistry();
        var counter = registry.Counter("demo_events_total", "Events.\nSecond line with a \\ backslash.", "kind");
        var gauge = registry.Gauge("demo_level", "A level.");
        var histogram = registry.Histogram("demo_duration_seconds", "Durations.", [1, 0.5]);
        counter.Inc("a\"b\\c\nd");
        counter.Inc("plain");
        counter.Inc("plain");
        gauge.Set(0.25);
        histogram.Observe(0.3);
        histogram.Observe(0.7);
        histogram.Observe(4);

        Assert.Equal("""
            # HELP demo_events_total Events.\nSecond line with a \\ backslash.
            # TYPE demo_events_total counter
            demo_events_total{kind="a\"b\\c\nd"} 1
            demo_events_total{kind="plain"} 2
            # HELP demo_level A level.
            # TYPE demo_level gauge
            demo_level 0.25
            # HELP demo_duration_seconds Durations.
            # TYPE demo_duration_seconds histogram
            demo_duration_seconds_bucket{le="0.5"} 1
            demo_duration_seconds_bucket{le="1"} 2
            demo_duration_seconds_bucket{le="+Inf"} 3
            demo_duration_seconds_sum 5
            demo_duration_seconds_count 3

            """.Replace("\r\n", "\n", StringComparison.Ordinal), registry.Expose());
    }

    [Fact]
    public void The_rebalancer_exposes_the_names_the_alert_rules_use()
    {
        var text = new RebalancerMetrics(new MetricsRegistry()).Registry.Expose();

        foreach (var name in new[]
        {
            "rebalancer_decisions_total", "rebalancer_migrations_total", "rebalancer_migration_duration_seconds",
            "rebalancer_migrations_in_flight", "rebalancer_domains_away_from_home", "rebalancer_domain_migrations_total",
            "rebalancer_journal_errors_total", "rebalancer_webhook_requests_total", "rebalancer_build_info",
        })
        {
            Assert.Contains($"# TYPE {name} ", text, StringComparison.Ordinal);
        }
        Assert.Contains("rebalancer_migrations_total{result=\"timed_out\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("rebalancer_journal_errors_total 0", text, StringComparison.Ordinal);
        // At 0 from the start, so that increase() sees the first expired alert.
        Assert.Contains("rebalancer_alerts_expired_total 0", text, StringComparison.Ordinal);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", MetricsRegistry.ContentType);
    }

    [Fact]
    public void Gauge_replace_drops_series_that_went_away()
    {
        var registry = new MetricsRegistry();
        var g = registry.Gauge("x", "y", "host");
        g.Replace([(["hv1"], 1), (["hv2"], 0)]);
        g.Replace([(["hv1"], 1)]);
        Assert.DoesNotContain("hv2", registry.Expose(), StringComparison.Ordinal);
    }
}

public sealed class PromtoolTests
{
    [Fact]
    public async Task Promtool_check_metrics_accepts_the_rebalancers_exposition()
    {
        var metrics = new RebalancerMetrics(new MetricsRegistry());
        metrics.Decisions.Inc("migrate", "overloaded");
        metrics.Migrations.Inc("succeeded");
        metrics.MigrationDuration.Observe(4.2);
        metrics.DomainMigrations.Inc("vm\"2");
        metrics.WebhookRequests.Inc("202");
        metrics.HostMaintenance.Replace([(["hv1"], 0)]);
        metrics.LastMigrationTimestamp.Set(1795311260.5);

        await Loadshift.Testing.Tool.AssertPromtoolAcceptsMetricsAsync(metrics.Registry.Expose());
    }
}
