using System.Net.Http.Headers;
using Loadshift.Rebalancer.Tests.Support;
using Loadshift.Rebalancer.Tests.Webhook;
using Microsoft.Extensions.DependencyInjection;

namespace Loadshift.Rebalancer.Tests.Metrics;

/// <summary>/metrics of the running service: the metadata prometheus/rules, grafana/ and docs/runbook.md rely on,
/// and the series after real actions (a webhook, a migration, a host that stops answering).</summary>
public sealed class MetricsContractTests : IDisposable
{
    private static readonly Uri MetricsUri = new("/metrics", UriKind.Relative);
    private static readonly Uri WebhookUri = new("/api/v1/webhook", UriKind.Relative);
    private readonly RebalancerFactory factory = new();

    public void Dispose() => factory.Dispose();

    /// <summary>Name, type and HELP of every metric, as published before prometheus-net served them: a change
    /// here is a change of the contract with the rules, the dashboards and the runbook.</summary>
    [Fact]
    public async Task Every_metric_keeps_its_name_type_and_help()
    {
        using var client = factory.CreateClient();

        var metadata = (await client.GetStringAsync(MetricsUri)).Split('\n').Where(l => l.StartsWith("# ", StringComparison.Ordinal)).Order(StringComparer.Ordinal);

        Assert.Equal(
        [
            "# HELP rebalancer_alerts_expired_total Firing alerts treated as resolved because Alertmanager had not re-sent them within policy.alertExpiry (their resolved notification was lost).",
            "# HELP rebalancer_build_info Always 1; the version label says which build of the Rebalancer runs.",
            "# HELP rebalancer_decisions_total Decisions journaled by the planner, by outcome (migrate, no_action, dry_run) and reason.",
            "# HELP rebalancer_domain_migrations_total Successful live migrations per domain; a fast rise means a domain is bounced.",
            "# HELP rebalancer_domains_away_from_home Domains running on a host other than their home host, as libvirt reported at the last check.",
            "# HELP rebalancer_host_maintenance 1 when the host is in maintenance (drained, or flagged in the inventory), else 0.",
            "# HELP rebalancer_host_reachable 1 when libvirt on the host answered at the last check, else 0.",
            "# HELP rebalancer_journal_errors_total Failed reads or writes of the SQLite journal.",
            "# HELP rebalancer_last_migration_timestamp_seconds Unix time the last live migration ended (for dashboard annotations).",
            "# HELP rebalancer_migration_duration_seconds Wall time of virsh migrate --live, from start to verified placement.",
            "# HELP rebalancer_migration_remaining_bytes Data libvirt still has to copy for a live migration in flight (virsh domjobinfo data_remaining); gone once it ends.",
            "# HELP rebalancer_migration_total_bytes Data libvirt has to copy for a live migration in flight, so far (virsh domjobinfo data_total: memory, and disks when copied; grows as the guest dirties memory); gone once it ends.",
            "# HELP rebalancer_migrations_in_flight Live migrations running now.",
            "# HELP rebalancer_migrations_total Live migrations finished, by result (succeeded, failed, timed_out, interrupted: running on no host), as verified with libvirt afterwards.",
            "# HELP rebalancer_move_verdicts_total Moves verified from Prometheus policy.verifyAfter after a successful migration, by verdict: helped (the source fell as predicted, within policy.verifyTolerance, and the target stayed under the high watermark), did_not_help, overloaded_target.",
            "# HELP rebalancer_recommendation_pending 1 for each move that waits for an operator's approval (policy.automation), by the id of its decision; gone once approved, rejected or expired.",
            "# HELP rebalancer_rule_violations Hard placement rules the current placement breaks, by rule (anti_affinity, must_run_on, never_on), at the last pass.",
            "# HELP rebalancer_start_time_seconds Unix time this Rebalancer process started: a change is a restart, after which its counters start again from what it resolved at start.",
            "# HELP rebalancer_webhook_requests_total Requests to POST /api/v1/webhook by HTTP status code.",
            "# TYPE rebalancer_alerts_expired_total counter",
            "# TYPE rebalancer_build_info gauge",
            "# TYPE rebalancer_decisions_total counter",
            "# TYPE rebalancer_domain_migrations_total counter",
            "# TYPE rebalancer_domains_away_from_home gauge",
            "# TYPE rebalancer_host_maintenance gauge",
            "# TYPE rebalancer_host_reachable gauge",
            "# TYPE rebalancer_journal_errors_total counter",
            "# TYPE rebalancer_last_migration_timestamp_seconds gauge",
            "# TYPE rebalancer_migration_duration_seconds histogram",
            "# TYPE rebalancer_migration_remaining_bytes gauge",
            "# TYPE rebalancer_migration_total_bytes gauge",
            "# TYPE rebalancer_migrations_in_flight gauge",
            "# TYPE rebalancer_migrations_total counter",
            "# TYPE rebalancer_move_verdicts_total counter",
            "# TYPE rebalancer_recommendation_pending gauge",
            "# TYPE rebalancer_rule_violations gauge",
            "# TYPE rebalancer_start_time_seconds gauge",
            "# TYPE rebalancer_webhook_requests_total counter",
        ], metadata);
    }

    [Fact]
    public async Task After_an_alert_and_its_migration_the_series_say_what_happened_and_promtool_accepts_them()
    {
        using var client = factory.CreateAuthorizedClient();

        (await client.PostAsync(WebhookUri, WebhookContractTests.Payload("firing-hv1.json"))).Dispose();
        await Eventually.TrueAsync(async () => Series.Parse(await client.GetStringAsync(MetricsUri))
            .GetValueOrDefault("rebalancer_migrations_total{result=\"succeeded\"}") == 1, "the migration counted");
        // The gauges describe the worker's last look: the pass the migration's end wakes.
        await Eventually.TrueAsync(async () => Series.Parse(await client.GetStringAsync(MetricsUri))
            .GetValueOrDefault("rebalancer_domains_away_from_home") == 1, "vm2 away from home");

        var text = await client.GetStringAsync(MetricsUri);
        var series = Series.Parse(text);
        Assert.Equal(1, series["rebalancer_webhook_requests_total{code=\"202\"}"]);
        Assert.Equal(1, series["rebalancer_decisions_total{outcome=\"migrate\",reason=\"overloaded\"}"]);
        Assert.Equal(1, series["rebalancer_domain_migrations_total{domain=\"vm2\"}"]);
        Assert.Equal(0, series["rebalancer_domain_migrations_total{domain=\"vm1\"}"]);
        Assert.Equal(1, series["rebalancer_migration_duration_seconds_count"]);
        Assert.Equal(1, series["rebalancer_migration_duration_seconds_bucket{le=\"+Inf\"}"]);
        Assert.Equal(0, series["rebalancer_migrations_in_flight"]);
        Assert.InRange(series["rebalancer_last_migration_timestamp_seconds"], DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        foreach (var host in new[] { "hv1", "hv2", "hv3" })
        {
            Assert.Equal(1, series[$"rebalancer_host_reachable{{host=\"{host}\"}}"]);
            Assert.Equal(0, series[$"rebalancer_host_maintenance{{host=\"{host}\"}}"]);
        }
        Assert.Equal(1, series[$"rebalancer_build_info{{version=\"{Loadshift.Rebalancer.Metrics.RebalancerMetrics.Version}\"}}"]);
        await Loadshift.Testing.Tool.AssertPromtoolAcceptsMetricsAsync(text);
    }

    [Fact]
    public async Task A_migration_under_way_is_in_flight_until_it_ends()
    {
        factory.Hypervisor.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var client = factory.CreateAuthorizedClient();

        (await client.PostAsync(WebhookUri, WebhookContractTests.Payload("firing-hv1.json"))).Dispose();

        await Eventually.TrueAsync(async () => Series.Parse(await client.GetStringAsync(MetricsUri))["rebalancer_migrations_in_flight"] == 1,
            "one migration in flight");
        factory.Hypervisor.Hold.SetResult();
        await Eventually.TrueAsync(async () => Series.Parse(await client.GetStringAsync(MetricsUri))["rebalancer_migrations_in_flight"] == 0,
            "none in flight once it ended");
    }

    [Fact]
    public async Task A_host_whose_libvirt_stops_answering_is_unreachable_at_the_next_look()
    {
        using var client = factory.CreateAuthorizedClient();
        await Eventually.TrueAsync(async () => Series.Parse(await client.GetStringAsync(MetricsUri))
            .GetValueOrDefault("rebalancer_host_reachable{host=\"hv3\"}", -1) == 1, "hv3 reachable at the first pass");

        factory.Hypervisor.Unreachable.Add("hv3");
        factory.Services.GetRequiredService<Loadshift.Rebalancer.Worker.WorkerSignal>().Wake();

        await Eventually.TrueAsync(async () => Series.Parse(await client.GetStringAsync(MetricsUri))["rebalancer_host_reachable{host=\"hv3\"}"] == 0,
            "hv3 unreachable");
    }

    [Fact]
    public async Task A_scraper_that_asks_for_OpenMetrics_gets_it_with_the_same_series()
    {
        using var client = factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, MetricsUri);
        request.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse("application/openmetrics-text; version=1.0.0"));

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal("application/openmetrics-text", response.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith("# EOF\n", text, StringComparison.Ordinal);
        Assert.Contains("rebalancer_migrations_total{result=\"timed_out\"} 0", text, StringComparison.Ordinal);
    }
}
