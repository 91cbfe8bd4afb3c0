namespace Loadshift.Rebalancer;

/// <summary>Every log line of the Rebalancer, source-generated, with stable event ids:
/// 1xx webhook and API, 2xx planning, 3xx migrations, 4xx cluster observation, 5xx journal and start.</summary>
internal static partial class Log
{
    [LoggerMessage(100, LogLevel.Information, "Webhook receipt {ReceiptId}: {Status} notification with {Alerts} alert(s), {Relevant} to act on (group {GroupKey})")]
    public static partial void WebhookReceived(ILogger logger, long receiptId, string status, int alerts, int relevant, string groupKey);

    [LoggerMessage(101, LogLevel.Debug, "Ignoring alert {AlertName} host={Host} action={Action}: not the configured alert with action=\"rebalance\" on an inventory host")]
    public static partial void AlertIgnored(ILogger logger, string alertName, string host, string action);

    [LoggerMessage(103, LogLevel.Warning, "Alert {Fingerprint} ({Status}, startsAt {StartsAt:O}) is older than the journaled firing of that alert: kept as journaled")]
    public static partial void AlertStale(ILogger logger, string fingerprint, string status, DateTimeOffset? startsAt);

    [LoggerMessage(104, LogLevel.Warning,
        "Webhook receipt {ReceiptId}: Alertmanager left {Truncated} alert(s) of group {GroupKey} out of the notification (webhook_configs max_alerts); their state is not in it: set max_alerts: 0")]
    public static partial void AlertsTruncated(ILogger logger, long receiptId, int truncated, string groupKey);

    [LoggerMessage(105, LogLevel.Warning,
        "Alert {AlertName} host={Host} ({Fingerprint}) resolved by expiry: firing, but not re-sent by Alertmanager since {LastReceivedAt:O} (policy.alertExpiry {ExpirySeconds}s); its resolved notification was lost")]
    public static partial void AlertExpired(ILogger logger, string alertName, string host, string fingerprint, DateTimeOffset lastReceivedAt, double expirySeconds);

    [LoggerMessage(102, LogLevel.Information, "Host {Host} {Change} through the API")]
    public static partial void MaintenanceChanged(ILogger logger, string host, string change);

    /// <summary>The seed's log.txt line: time, action, host CPU, host memory, each VM's load.</summary>
    [LoggerMessage(200, LogLevel.Information,
        "Decision at {Time:O}: {Action} ({Kind}, {Reason}) host={Host} cpu={HostCpu:0.00} mem={HostMemory:0.00} loads=[{DomainLoads}]: {Detail}")]
    public static partial void Decision(ILogger logger, DateTimeOffset time, string action, string kind, string reason, string host,
        double hostCpu, double hostMemory, string domainLoads, string detail);

    [LoggerMessage(201, LogLevel.Information, "Worker started (dry run: {DryRun}), looking every {IntervalSeconds}s and on every webhook")]
    public static partial void WorkerStarted(ILogger logger, bool dryRun, double intervalSeconds);

    [LoggerMessage(202, LogLevel.Error, "Planning pass failed, retrying at the next pass: {Message}")]
    public static partial void PassFailed(ILogger logger, string message, Exception exception);

    [LoggerMessage(300, LogLevel.Information, "Migration {MigrationId}: {Domain} {Source} -> {Target} started")]
    public static partial void MigrationStarted(ILogger logger, long migrationId, string domain, string source, string target);

    [LoggerMessage(301, LogLevel.Information, "Migration {MigrationId}: {Domain} {Source} -> {Target} succeeded in {Seconds:0.0}s (verified with libvirt)")]
    public static partial void MigrationSucceeded(ILogger logger, long migrationId, string domain, string source, string target, double seconds);

    [LoggerMessage(302, LogLevel.Error, "Migration {MigrationId}: {Domain} {Source} -> {Target} {Result}; libvirt places it on {Placement}; stderr: {Stderr}")]
    public static partial void MigrationFailed(ILogger logger, long migrationId, string domain, string source, string target, string result, string placement, string stderr);

    [LoggerMessage(303, LogLevel.Error, "Migration {MigrationId} of {Domain} broke off: {Message}; it will be resolved from libvirt's placement")]
    public static partial void MigrationCrashed(ILogger logger, long migrationId, string domain, string message);

    [LoggerMessage(304, LogLevel.Warning, "Migration {MigrationId} of {Domain} resolved as {Result} from libvirt: the domain is on {Placement}")]
    public static partial void MigrationResolved(ILogger logger, long migrationId, string domain, string result, string placement);

    [LoggerMessage(306, LogLevel.Warning, "Migration {MigrationId} of {Domain} stays open: libvirt cannot say where the domain is yet ({Placement}); it counts as in flight")]
    public static partial void MigrationUnresolved(ILogger logger, long migrationId, string domain, string placement);

    [LoggerMessage(307, LogLevel.Information, "Migration {MigrationId}: moving {Domain} {Source} -> {Target} {Verdict}: {Detail}")]
    public static partial void MoveVerified(ILogger logger, long migrationId, string domain, string source, string target, string verdict, string detail);

    [LoggerMessage(305, LogLevel.Warning, "virsh domjobabort {Domain} on {Host} failed: {Stderr}")]
    public static partial void JobAbortFailed(ILogger logger, string domain, string host, string stderr);

    [LoggerMessage(400, LogLevel.Warning, "Host {Host} unreachable: {Message}")]
    public static partial void HostUnreachable(ILogger logger, string host, string message);

    [LoggerMessage(401, LogLevel.Warning, "No load figures from Prometheus; no relief or return home until it answers: {Message}")]
    public static partial void MetricsUnavailable(ILogger logger, string message);

    [LoggerMessage(402, LogLevel.Information, "Domain {Domain} first seen on {Host}: that is its home host from now on")]
    public static partial void HomeRecorded(ILogger logger, string domain, string host);

    [LoggerMessage(403, LogLevel.Information, "Domain {Domain} is named in the inventory's rules but runs on no host yet; its rules apply once it does")]
    public static partial void RuleDomainNotSeen(ILogger logger, string domain);

    [LoggerMessage(500, LogLevel.Error, "Journal write failed; answering 503 so Alertmanager retries: {Message}")]
    public static partial void JournalWriteFailed(ILogger logger, string message);

    [LoggerMessage(502, LogLevel.Error, "Journal unavailable for {Path}, answering 503: {Message}")]
    public static partial void JournalUnavailable(ILogger logger, string path, string message);

    [LoggerMessage(501, LogLevel.Information, "loadshift-rebalancer {Version} starting: {Hosts} host(s), journal {JournalPath}, dry run {DryRun}")]
    public static partial void Starting(ILogger logger, string version, int hosts, string journalPath, bool dryRun);

    [LoggerMessage(503, LogLevel.Information, "Journal {Path} brought to schema version {Version}: {Description}")]
    public static partial void JournalSchemaStep(ILogger logger, string path, int version, string description);
}
