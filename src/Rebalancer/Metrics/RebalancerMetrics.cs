using System.Reflection;

namespace Loadshift.Rebalancer.Metrics;

/// <summary>The Rebalancer's own metrics. The names are a contract: prometheus/rules use them.</summary>
public sealed class RebalancerMetrics
{
    public RebalancerMetrics(MetricsRegistry registry)
    {
        Registry = registry;
        BuildInfo = registry.Gauge("rebalancer_build_info", "Always 1; the version label says which build of the Rebalancer runs.", "version");
        Decisions = registry.Counter("rebalancer_decisions_total",
            "Decisions journaled by the planner, by outcome (migrate, no_action, dry_run) and reason.", "outcome", "reason");
        Migrations = registry.Counter("rebalancer_migrations_total",
            "Live migrations finished, by result (succeeded, failed, timed_out, interrupted: running on no host), as verified with libvirt afterwards.", "result");
        MigrationDuration = registry.Histogram("rebalancer_migration_duration_seconds",
            "Wall time of virsh migrate --live, from start to verified placement.",
            [1, 2, 5, 10, 20, 30, 60, 120, 300, 600]);
        MigrationsInFlight = registry.Gauge("rebalancer_migrations_in_flight", "Live migrations running now.");
        DomainsAwayFromHome = registry.Gauge("rebalancer_domains_away_from_home",
            "Domains running on a host other than their home host, as libvirt reported at the last check.");
        DomainMigrations = registry.Counter("rebalancer_domain_migrations_total",
            "Successful live migrations per domain; a fast rise means a domain is bounced.", "domain");
        JournalErrors = registry.Counter("rebalancer_journal_errors_total", "Failed reads or writes of the SQLite journal.");
        WebhookRequests = registry.Counter("rebalancer_webhook_requests_total",
            "Requests to POST /api/v1/webhook by HTTP status code.", "code");
        AlertsExpired = registry.Counter("rebalancer_alerts_expired_total",
            "Firing alerts treated as resolved because Alertmanager had not re-sent them within policy.alertExpiry (their resolved notification was lost).");
        HostMaintenance = registry.Gauge("rebalancer_host_maintenance",
            "1 when the host is in maintenance (drained, or flagged in the inventory), else 0.", "host");
        HostReachable = registry.Gauge("rebalancer_host_reachable", "1 when libvirt on the host answered at the last check, else 0.", "host");
        LastMigrationTimestamp = registry.Gauge("rebalancer_last_migration_timestamp_seconds",
            "Unix time the last live migration ended (for dashboard annotations).");

        BuildInfo.Set(1, Version);
        foreach (var result in new[] { "succeeded", "failed", "timed_out", "interrupted" })
        {
            Migrations.Touch(result);
        }
        JournalErrors.Touch();
        AlertsExpired.Touch();
        MigrationsInFlight.Set(0);
        DomainsAwayFromHome.Set(0);
    }

    public static string Version { get; } =
        typeof(RebalancerMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";

    public MetricsRegistry Registry { get; }

    public Gauge BuildInfo { get; }

    public Counter Decisions { get; }

    public Counter Migrations { get; }

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
