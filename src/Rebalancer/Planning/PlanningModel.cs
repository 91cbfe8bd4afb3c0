namespace Loadshift.Rebalancer.Planning;

/// <summary>A host as the planner sees it: the inventory's capacities with the snapshot's load.</summary>
/// <param name="CpuCapacity">CPUs (from the inventory); converts a domain's share between hosts.</param>
/// <param name="MemoryBytes">Memory the host may give to domains (inventory); 0 when not set.</param>
/// <param name="BusyRatio">host:hypervisor_cpu_busy:ratio_rate1m, 0..1; null when Prometheus has none.</param>
/// <param name="CalmWindowMaxBusyRatio">The highest busy ratio over the last policy.returnHomeAfter;
/// under the low watermark means the host stayed calm that long.</param>
/// <param name="MemoryAvailableBytes">hypervisor_memory_available_bytes; null when unknown.</param>
/// <param name="Reachable">libvirt answered on this host in this snapshot.</param>
/// <param name="Settling">A domain arrived on this host less than policy.settleTime ago: its busy ratio (a 1m rate)
/// does not show it yet, so it takes no other domain until it does.</param>
public sealed record HostView(
    string Name,
    double CpuCapacity,
    long MemoryBytes,
    double? BusyRatio,
    double? CalmWindowMaxBusyRatio,
    long? MemoryAvailableBytes,
    bool Maintenance,
    bool Reachable,
    bool Settling = false);

/// <summary>A running domain (libvirt's word for a VM).</summary>
/// <param name="Host">Where libvirt reports it running now.</param>
/// <param name="CpuShare">host_domain:libvirt_domain_cpu:ratio_rate1m: its CPU as a share of its host's capacity.</param>
/// <param name="MemoryBytes">libvirt_domain_memory_maximum_bytes: what it may take on a target.</param>
/// <param name="HomeHost">Where it belongs (inventory, else where it was first seen).</param>
/// <param name="AlsoOn">Another host libvirt shows it active on too (a migration under way, this process's or one by
/// hand, or the same domain started twice): it is not moved while that lasts.</param>
public sealed record DomainView(string Name, string Host, double CpuShare, long MemoryBytes, string? HomeHost, bool Pinned, string? AlsoOn = null);

/// <summary>What the journal remembers of a domain's moves.</summary>
/// <param name="LastMovedAt">Start of its last successful migration (orders "last moved returns first").</param>
/// <param name="LastMigrationEndedAt">End of its last migration of any outcome (starts its cooldown).</param>
/// <param name="RecentMigrations">Migrations within policy.backoffWindow (drives the back-off).</param>
/// <param name="CooldownFactor">Lengthens the cooldown: policy.didNotHelpCooldownFactor when its last move did not
/// help (verified from Prometheus), else 1.</param>
public sealed record DomainHistory(DateTimeOffset? LastMovedAt, DateTimeOffset? LastMigrationEndedAt, int RecentMigrations, double CooldownFactor = 1);

public sealed record MigrationInFlight(string Domain, string Source, string Target, DateTimeOffset StartedAt);

/// <summary>Everything one planning step needs; the planner reads nothing else.</summary>
/// <param name="Rules">The inventory's placement rules; null for none.</param>
public sealed record PlanningInput(
    IReadOnlyList<HostView> Hosts,
    IReadOnlyList<DomainView> Domains,
    IReadOnlyDictionary<string, DomainHistory> History,
    IReadOnlyList<MigrationInFlight> InFlight,
    PlanningPolicy Policy,
    DateTimeOffset Now,
    PlacementRules? Rules = null);

/// <summary>The policy knobs the planner uses (a copy, so the planner does not depend on options binding).</summary>
public sealed record PlanningPolicy(
    double HighWatermark = 0.80,
    double LowWatermark = 0.50,
    TimeSpan? Cooldown = null,
    double CooldownBackoff = 2.0,
    TimeSpan? MaxCooldown = null,
    int MaxMigrationsInFlight = 1)
{
    public TimeSpan CooldownOrDefault => Cooldown ?? TimeSpan.FromMinutes(5);

    public TimeSpan MaxCooldownOrDefault => MaxCooldown ?? TimeSpan.FromHours(1);

    public static PlanningPolicy From(Inventory.PolicyOptions o) =>
        new(o.HighWatermark, o.LowWatermark, o.Cooldown, o.CooldownBackoff, o.MaxCooldown, o.MaxMigrationsInFlight);
}

public enum DecisionKind
{
    /// <summary>A host's HypervisorCpuHigh alert fires: move a domain off it.</summary>
    Relief,

    /// <summary>A domain away from home goes back.</summary>
    ReturnHome,

    /// <summary>A host in maintenance: move everything off it.</summary>
    Drain,
}

public enum DecisionOutcome
{
    Migrate,
    NoAction,
}

/// <summary>One move with the numbers that justify it.</summary>
/// <param name="DomainShare">The domain's CPU as a share of the source's capacity.</param>
public sealed record MigrationPlan(
    string Domain,
    string Source,
    string Target,
    double DomainShare,
    long DomainMemoryBytes,
    double SourceBusyBefore,
    double SourceBusyAfter,
    double TargetBusyBefore,
    double TargetBusyAfter);

/// <summary>The planner's answer: one migration with its reasons, or no action with the reason.</summary>
/// <param name="Host">The host the decision is about: the overloaded one, the drained one, or the home host.</param>
/// <param name="Reason">snake_case, used as the <c>reason</c> label of rebalancer_decisions_total.</param>
/// <param name="Rejected">The targets considered and rejected, each with the rule that rejected it; null when none.</param>
public sealed record Decision(
    DecisionKind Kind,
    string Host,
    DecisionOutcome Outcome,
    string Reason,
    string Detail,
    MigrationPlan? Migration = null,
    IReadOnlyList<Rejection>? Rejected = null)
{
    public static Decision NoAction(DecisionKind kind, string host, string reason, string detail, IReadOnlyList<Rejection>? rejected = null) =>
        new(kind, host, DecisionOutcome.NoAction, reason, detail, null, rejected);
}

/// <summary>A target a rule kept a domain off.</summary>
/// <param name="Rule">The rule's name (snake_case), e.g. <c>high_watermark</c>, <c>anti_affinity</c>.</param>
/// <param name="Reason">What the rule found, e.g. "hv2 would reach 0.85, not under 0.80".</param>
public sealed record Rejection(string Domain, string Target, string Rule, string Reason);

/// <summary>The reasons a decision can carry (label values of rebalancer_decisions_total).</summary>
public static class Reasons
{
    public const string Overloaded = "overloaded";
    public const string ReturnHome = "return_home";
    public const string Drain = "drain";
    public const string NotOverloaded = "not_overloaded";
    public const string NoMetrics = "no_metrics";
    public const string HostUnreachable = "host_unreachable";
    public const string UnknownHost = "unknown_host";
    public const string InFlightLimit = "in_flight_limit";
    public const string HostInMigration = "host_in_migration";
    public const string NoMovableDomain = "no_movable_domain";
    public const string NoTarget = "no_target";
    public const string NothingAway = "nothing_away";
    public const string HomeNotReady = "home_not_ready";
    public const string DrainComplete = "drain_complete";

    /// <summary>The host is in a migration or just was: its 1m busy ratio does not show the move yet (policy.settleTime).</summary>
    public const string Settling = "settling";

    /// <summary>The reasons of a decision that migrates (outcome migrate, or dry_run under policy.dryRun).</summary>
    public static IReadOnlyList<string> ForMigration { get; } = [Overloaded, ReturnHome, Drain];

    /// <summary>The reasons of a no_action decision.</summary>
    public static IReadOnlyList<string> ForNoAction { get; } =
        [NotOverloaded, NoMetrics, HostUnreachable, UnknownHost, InFlightLimit, HostInMigration, NoMovableDomain, NoTarget,
         NothingAway, HomeNotReady, DrainComplete, Settling];
}

/// <summary>The inventory's placement rules as the planner reads them (a copy, as <see cref="PlanningPolicy"/>).</summary>
public sealed record PlacementRules(
    IReadOnlyList<DomainGroup> AntiAffinity,
    IReadOnlyList<DomainGroup> Affinity,
    IReadOnlyList<DomainHostRule> DomainHost)
{
    public static PlacementRules None { get; } = new([], [], []);

    public static PlacementRules From(Inventory.RuleOptions o) => new(
        o.AntiAffinity.Select(g => new DomainGroup(g.Name, g.Domains, g.Hard)).ToList(),
        o.Affinity.Select(g => new DomainGroup(g.Name, g.Domains, Hard: false)).ToList(),
        o.DomainHost.Select(r => new DomainHostRule(r.Domain, r.Must, r.Should, r.Never)).ToList());
}

/// <summary>An anti-affinity or affinity group.</summary>
public sealed record DomainGroup(string Name, IReadOnlyList<string> Domains, bool Hard);

/// <summary>Where one domain may run: one of <paramref name="Must"/> (hard; empty: any), preferably one of
/// <paramref name="Should"/> (soft), never one of <paramref name="Never"/> (hard).</summary>
public sealed record DomainHostRule(string Domain, IReadOnlyList<string> Must, IReadOnlyList<string> Should, IReadOnlyList<string> Never);
