namespace Loadshift.Rebalancer.Journal;

/// <summary>One Alertmanager notification as received (the webhook's durable receipt).</summary>
/// <param name="TruncatedAlerts">Alerts of the group Alertmanager left out of the notification (its webhook_configs
/// max_alerts): their state is not in it.</param>
public sealed record ReceiptRecord(long Id, DateTimeOffset ReceivedAt, string? GroupKey, string? Status, string? Receiver, int AlertCount,
    int TruncatedAlerts);

/// <param name="Stale">Fingerprints of alerts left as journaled: the notification spoke of an earlier firing.</param>
public sealed record RecordedWebhook(long ReceiptId, IReadOnlySet<string> Stale);

/// <summary>The latest state of one alert (by Alertmanager's fingerprint).</summary>
/// <param name="Note">Why the state is not the one of the last notification: resolved by expiry (policy.alertExpiry);
/// null while it is Alertmanager's.</param>
public sealed record AlertRecord(
    string Fingerprint,
    string? AlertName,
    string? Host,
    string? Action,
    string Status,
    DateTimeOffset? StartsAt,
    DateTimeOffset? EndsAt,
    DateTimeOffset FirstReceivedAt,
    DateTimeOffset LastReceivedAt,
    string? Note);

/// <summary>An alert as the webhook hands it to the journal.</summary>
public sealed record AlertUpdate(
    string Fingerprint,
    string? AlertName,
    string? Host,
    string? Action,
    string Status,
    DateTimeOffset? StartsAt,
    DateTimeOffset? EndsAt,
    string LabelsJson);

public sealed record DecisionRecord(
    long Id,
    DateTimeOffset At,
    string Kind,
    string Host,
    string Outcome,
    string Reason,
    string Detail,
    bool DryRun,
    string? Domain,
    string? Source,
    string? Target,
    double? DomainShare,
    double? SourceBusyBefore,
    double? SourceBusyAfter,
    double? TargetBusyBefore,
    double? TargetBusyAfter);

/// <summary>A decision in full: the moves the planner weighed with their predicted effect (and cost, once estimated),
/// the targets rejected with the rule that rejected each, and the migrations it started.</summary>
/// <param name="Considered">Null for a decision journaled before explanations were kept.</param>
/// <param name="Rejected">Null for a decision journaled before explanations were kept.</param>
public sealed record DecisionExplanation(
    DecisionRecord Decision,
    IReadOnlyList<Planning.ConsideredMove>? Considered,
    IReadOnlyList<Planning.Rejection>? Rejected,
    IReadOnlyList<MigrationRecord> Migrations);

/// <summary>A move that waits for an operator (policy.automation), by the id of the decision that proposed it.</summary>
/// <param name="Status">pending, approved, rejected or expired (<see cref="RecommendationStatus"/>).</param>
/// <param name="ResolvedBy">Who ended it: api (approve, reject) or policy.recommendationExpiry.</param>
/// <param name="Detail">The decision's detail: why the move, with its prediction.</param>
public sealed record RecommendationRecord(
    long DecisionId,
    string Kind,
    string Host,
    string Domain,
    string Source,
    string Target,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    string Status,
    DateTimeOffset? ResolvedAt,
    string? ResolvedBy,
    string Detail);

public static class RecommendationStatus
{
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Rejected = "rejected";
    public const string Expired = "expired";

    public static IReadOnlyList<string> All { get; } = [Pending, Approved, Rejected, Expired];
}

/// <param name="Outcome">running (also while libvirt cannot say where the domain is), succeeded (libvirt shows it
/// running on the target), failed or timed_out (running on the source, or on another host), interrupted (running
/// nowhere: shut off where it is defined, or on no host).</param>
/// <param name="Placement">Where libvirt reported the domain once the migration ended.</param>
/// <param name="Reason">The reason of the decision that started it (overloaded, return_home, drain).</param>
/// <param name="TimedOut">virsh passed policy.migrationTimeout (then domjobabort); kept while the migration is open so
/// that resolving it from libvirt later says timed_out, not failed, when the domain stayed off the target.</param>
public sealed record MigrationRecord(
    long Id,
    long? DecisionId,
    string Domain,
    string Source,
    string Target,
    string? Kind,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    string Outcome,
    int? ExitCode,
    string? Stderr,
    string? Placement,
    string? Note,
    string? Reason,
    bool TimedOut);

/// <summary>A domain's last successful migration and the decision behind it.</summary>
public sealed record LastMove(string Domain, string Target, long MigrationId, DateTimeOffset? EndedAt, string? Reason, string? Detail);

public static class MigrationOutcomes
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string TimedOut = "timed_out";
    public const string Interrupted = "interrupted";
}

public sealed record HomeRecord(string Domain, string HomeHost, string Origin, DateTimeOffset RecordedAt);

/// <summary>What GET /api/v1/history filters on; null: any.</summary>
public sealed record HistoryFilter(string? Domain, string? Host, string? Kind, DateTimeOffset? Since, DateTimeOffset? Until);

public sealed record History(IReadOnlyList<DecisionRecord> Decisions, IReadOnlyList<MigrationRecord> Migrations);

public sealed record Page<T>(IReadOnlyList<T> Items, long? NextBefore);

public sealed class JournalException(string message, Exception inner) : Exception(message, inner);
