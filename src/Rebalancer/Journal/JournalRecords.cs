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
    double? TargetBusyAfter,
    string? Verdict = null);

/// <param name="Result">running (also while libvirt cannot say where the domain is), succeeded (libvirt shows it
/// running on the target), failed or timed_out (running on the source, or on another host), interrupted (running
/// nowhere: shut off where it is defined, or on no host).</param>
/// <param name="Placement">Where libvirt reported the domain once the migration ended.</param>
/// <param name="Reason">The reason of the decision that started it (overloaded, return_home, drain).</param>
/// <param name="TimedOut">virsh passed policy.migrationTimeout (then domjobabort); kept while the migration is open so
/// that resolving it from libvirt later says timed_out, not failed, when the domain stayed off the target.</param>
/// <param name="Verdict">Whether the move helped, verified from Prometheus policy.verifyAfter after a successful
/// migration (<see cref="MoveVerdicts"/>); null before, for other results, and when it could not be verified.</param>
/// <param name="SourceBusyObserved">The source's busy ratio at the verification (its prediction is the decision's).</param>
/// <param name="VerdictDetail">The figures behind the verdict, in words.</param>
public sealed record MigrationRecord(
    long Id,
    long? DecisionId,
    string Domain,
    string Source,
    string Target,
    string? Kind,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    string Result,
    int? ExitCode,
    string? Stderr,
    string? Placement,
    string? Note,
    string? Reason,
    bool TimedOut,
    string? Verdict = null,
    DateTimeOffset? VerifiedAt = null,
    double? SourceBusyObserved = null,
    double? TargetBusyObserved = null,
    string? VerdictDetail = null)
{
    /// <summary>The result under its name before docs/glossary.md (a migration has a result, as the metric's label
    /// says; a decision has an outcome). Deprecated: still in the API's answers for the clients that read it.</summary>
    public string Outcome => Result;
}

/// <summary>A successful migration whose move is due for verification, with the decision's predictions.</summary>
public sealed record MoveToVerify(long MigrationId, string Domain, string Source, string Target, DateTimeOffset EndedAt,
    double? SourceBusyBefore, double? SourceBusyAfter, double? TargetBusyAfter);

/// <summary>What a move did, verified from Prometheus once the hosts settled.</summary>
public static class MoveVerdicts
{
    /// <summary>The source fell as predicted (within policy.verifyTolerance) and the target stayed under the high watermark.</summary>
    public const string Helped = "helped";

    /// <summary>The source stayed above its prediction plus the tolerance.</summary>
    public const string DidNotHelp = "did_not_help";

    /// <summary>The target reached the high watermark.</summary>
    public const string OverloadedTarget = "overloaded_target";

    public static IReadOnlyList<string> All { get; } = [Helped, DidNotHelp, OverloadedTarget];
}

/// <summary>A domain's last successful migration and the decision behind it.</summary>
public sealed record LastMove(string Domain, string Target, long MigrationId, DateTimeOffset? EndedAt, string? Reason, string? Detail);

public static class MigrationResults
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string TimedOut = "timed_out";
    public const string Interrupted = "interrupted";
}

public sealed record HomeRecord(string Domain, string HomeHost, string Origin, DateTimeOffset RecordedAt);

public sealed record Page<T>(IReadOnlyList<T> Items, long? NextBefore);

public sealed class JournalException(string message, Exception inner) : Exception(message, inner);
