namespace Loadshift.Cli;

// The Rebalancer's JSON as this command reads it (src/Rebalancer/Api, Journal and Planning records; camelCase).
// Only what the views show; --output json prints the Rebalancer's answer as it came.

internal sealed record HostStatus(
    string Name,
    bool Reachable,
    string? Error,
    double? BusyRatio,
    long? MemoryAvailableBytes,
    bool Maintenance,
    bool AlertFiring,
    IReadOnlyList<string> Domains,
    IReadOnlyDictionary<string, double> DomainCpuShares,
    long? MemoryBytes);

internal sealed record AwayFromHome(string Domain, string Host, string HomeHost, long? MigrationId, string? Reason);

internal sealed record MigrationInFlight(string Domain, string Source, string Target, DateTimeOffset StartedAt);

internal sealed record JobProgress(long TotalBytes, long RemainingBytes, long ProcessedBytes, double Ratio);

internal sealed record MigrationProgress(long MigrationId, string Domain, string Source, string Target, DateTimeOffset StartedAt, JobProgress? Job);

internal sealed record StatusPolicy(double HighWatermark, double LowWatermark, string Automation, IReadOnlyDictionary<string, string>? DomainAutomation,
    double? MemoryHighWatermark = null);

internal sealed record RuleViolation(string Rule, string Host, IReadOnlyList<string> Domains, string Detail);

internal sealed record Recommendation(
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

internal sealed record DecisionRecord(
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
    string? Target);

internal sealed record Status(
    string Version,
    bool DryRun,
    DateTimeOffset? SnapshotAt,
    string? MetricsError,
    IReadOnlyList<HostStatus> Hosts,
    IReadOnlyList<AwayFromHome> DomainsAwayFromHome,
    IReadOnlyList<MigrationInFlight> MigrationsInFlight,
    DecisionRecord? LastDecision,
    StatusPolicy? Policy,
    IReadOnlyList<MigrationProgress>? Progress,
    IReadOnlyList<Recommendation>? Recommendations,
    IReadOnlyList<RuleViolation>? RuleViolations = null);

internal sealed record MigrationPlan(string Domain, string Source, string Target, double DomainShare, double SourceBusyBefore,
    double SourceBusyAfter, double TargetBusyBefore, double TargetBusyAfter);

internal sealed record ConsideredMove(MigrationPlan Plan, IReadOnlyList<string>? SoftBroken, bool Chosen, double? Cost);

internal sealed record Rejection(string Domain, string Target, string Rule, string Reason);

internal sealed record Decision(string Kind, string Host, string Outcome, string Reason, string Detail, MigrationPlan? Migration,
    IReadOnlyList<Rejection>? Rejected, IReadOnlyList<ConsideredMove>? Considered);

internal sealed record Plan(DateTimeOffset At, IReadOnlyList<Decision> Decisions);

internal sealed record MigrationRecord(long Id, long? DecisionId, string Domain, string Source, string Target, string? Kind,
    DateTimeOffset StartedAt, DateTimeOffset? EndedAt, string Outcome, string? Note, string? Reason);

internal sealed record Explanation(DecisionRecord Decision, IReadOnlyList<ConsideredMove>? Considered, IReadOnlyList<Rejection>? Rejected,
    IReadOnlyList<MigrationRecord> Migrations);

internal sealed record History(IReadOnlyList<DecisionRecord> Decisions, IReadOnlyList<MigrationRecord> Migrations);

internal sealed record MaintenanceAnswer(string Host, bool Maintenance, string Detail);

internal sealed record RecommendationAnswer(Recommendation Recommendation, long? MigrationId);

/// <summary>RFC 9457 problem details, as every error of the Rebalancer's API.</summary>
internal sealed record Problem(string? Title, string? Detail);
