using System.Reflection;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Planning;
using Prometheus;

namespace Loadshift.Rebalancer.Metrics;

/// <summary>The Rebalancer's own metrics, declared once in a registry of their own (so /metrics carries these and
/// nothing else). The names, types, labels and HELP are a contract: prometheus/rules, grafana/ and docs/runbook.md use them.</summary>
/// <remarks>Every label set a counter is known to take is published at 0 from the start (Prometheus' practice), so
/// that increase() and rate() see its first event, also the first after a restart: a series born at 1 has no
/// earlier sample to rise from. Known here: every migration result, every move verdict, every decision outcome with the reasons it can
/// carry (both sets are closed: <see cref="Reasons"/>), the inventory's domains; the webhook's status codes are
/// published by <c>UseWebhookRequestCounting</c>, next to the answers, and every other domain at its first
/// observation (<see cref="DomainObserved"/>). Gauges that describe state are set when /metrics is collected, by
/// the part that holds the state (<see cref="Execution.MigrationTracker"/>, <see cref="ClusterGauges"/>).</remarks>
public sealed class RebalancerMetrics
{
    /// <summary>Without an inventory or a policy: for tests below the service.</summary>
    public RebalancerMetrics() : this(new InventoryOptions(), new PolicyOptions())
    {
    }

    public RebalancerMetrics(InventoryOptions inventory, PolicyOptions policy)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(policy);
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        // No tracing backend reads exemplars here; without this, OpenMetrics scrapes would carry request trace ids.
        factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();

        BuildInfo = factory.CreateGauge("rebalancer_build_info", "Always 1; the version label says which build of the Rebalancer runs.", "version");
        StartTime = factory.CreateGauge("rebalancer_start_time_seconds",
            "Unix time this Rebalancer process started: a change is a restart, after which its counters start again from what it resolved at start.");
        using (var process = System.Diagnostics.Process.GetCurrentProcess())
        {
            StartTime.Set(new DateTimeOffset(process.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0);
        }
        Decisions = factory.CreateCounter("rebalancer_decisions_total",
            "Decisions journaled by the planner, by outcome (migrate, no_action, dry_run) and reason.", "outcome", "reason");
        Migrations = factory.CreateCounter("rebalancer_migrations_total",
            "Live migrations finished, by result (succeeded, failed, timed_out, interrupted: running on no host), as verified with libvirt afterwards.", "result");
        MoveVerdicts = factory.CreateCounter("rebalancer_move_verdicts_total",
            "Moves verified from Prometheus policy.verifyAfter after a successful migration, by verdict: helped (the source fell as " +
            "predicted, within policy.verifyTolerance, and the target stayed under the high watermark), did_not_help, overloaded_target.", "verdict");
        MigrationDuration = factory.CreateHistogram("rebalancer_migration_duration_seconds",
            "Wall time of virsh migrate --live, from start to verified placement.",
            new HistogramConfiguration { Buckets = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600] });
        MigrationsInFlight = factory.CreateGauge("rebalancer_migrations_in_flight", "Live migrations running now.");
        DomainsAwayFromHome = factory.CreateGauge("rebalancer_domains_away_from_home",
            "Domains running on a host other than their home host, as libvirt reported at the last check.");
        DomainMigrations = factory.CreateCounter("rebalancer_domain_migrations_total",
            "Successful live migrations per domain; a fast rise means a domain is bounced.", "domain");
        JournalErrors = factory.CreateCounter("rebalancer_journal_errors_total", "Failed reads or writes of the SQLite journal.");
        WebhookRequests = factory.CreateCounter("rebalancer_webhook_requests_total",
            "Requests to POST /api/v1/webhook by HTTP status code.", "code");
        AlertsExpired = factory.CreateCounter("rebalancer_alerts_expired_total",
            "Firing alerts treated as resolved because Alertmanager had not re-sent them within policy.alertExpiry (their resolved notification was lost).");
        HostMaintenance = factory.CreateGauge("rebalancer_host_maintenance",
            "1 when the host is in maintenance (drained, or flagged in the inventory), else 0.", "host");
        HostReachable = factory.CreateGauge("rebalancer_host_reachable", "1 when libvirt on the host answered at the last check, else 0.", "host");
        LastMigrationTimestamp = factory.CreateGauge("rebalancer_last_migration_timestamp_seconds",
            "Unix time the last live migration ended (for dashboard annotations).");

        BuildInfo.WithLabels(Version).Set(1);
        foreach (var result in new[] { MigrationResults.Succeeded, MigrationResults.Failed, MigrationResults.TimedOut, MigrationResults.Interrupted })
        {
            Migrations.WithLabels(result).Publish();
        }
        foreach (var verdict in Journal.MoveVerdicts.All)
        {
            MoveVerdicts.WithLabels(verdict).Publish();
        }
        // One process counts either migrate or dry_run: policy.dryRun is read once, at the start.
        foreach (var reason in Reasons.ForMigration)
        {
            Decisions.WithLabels(OutcomeLabel(DecisionOutcome.Migrate, policy.DryRun), reason).Publish();
        }
        foreach (var reason in Reasons.ForNoAction)
        {
            Decisions.WithLabels(OutcomeLabel(DecisionOutcome.NoAction, policy.DryRun), reason).Publish();
        }
        foreach (var domain in inventory.ConfiguredHomes().Keys.Concat(inventory.Pinned))
        {
            DomainObserved(domain);
        }
    }

    public static string Version { get; } =
        typeof(RebalancerMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";

    /// <summary>What /metrics serves.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>The outcome label of a decision: dry_run for a migration not run because of policy.dryRun.</summary>
    public static string OutcomeLabel(DecisionOutcome outcome, bool dryRun) =>
        dryRun && outcome == DecisionOutcome.Migrate ? "dry_run" : SqliteJournal.OutcomeName(outcome);

    /// <summary>A domain libvirt showed: its migration counter exists at 0 from now on. A domain that is first
    /// seen and moved within one scrape interval is still born at 1: the domain was not known earlier.</summary>
    public void DomainObserved(string domain) => DomainMigrations.WithLabels(domain).Publish();

    public Gauge BuildInfo { get; }

    /// <summary>The process's start: migrations left open by an earlier process are resolved and counted at start,
    /// before the first scrape, so a counter may go on from where the earlier process left it (1 before, 1 after) and
    /// increase() sees no reset; the migration alerts look at this too.</summary>
    public Gauge StartTime { get; }

    public Counter Decisions { get; }

    public Counter Migrations { get; }

    public Counter MoveVerdicts { get; }

    public Histogram MigrationDuration { get; }

    public Gauge MigrationsInFlight { get; }

    public Gauge DomainsAwayFromHome { get; }

    public Counter DomainMigrations { get; }

    public Counter JournalErrors { get; }

    public Counter WebhookRequests { get; }

    public Counter AlertsExpired { get; }

    public Gauge HostMaintenance { get; }

    public Gauge HostReachable { get; }

    public Gauge LastMigrationTimestamp { get; }
}
