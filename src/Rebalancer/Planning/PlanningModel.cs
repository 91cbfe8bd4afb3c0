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
/// <param name="MemoryTotalBytes">hypervisor_memory_total_bytes (MemTotal); with <paramref name="MemoryAvailableBytes"/>
/// it gives the host's memory share as measured; null when unknown (then the inventory's memoryBytes and the domains'
/// maximum memory are taken).</param>
/// <param name="LastMigrationEndedAt">When the last migration from or to this host ended, if within policy.settleTime
/// (the pass's settling gate, <see cref="Gates.Settling"/>); null otherwise.</param>
public sealed record HostView(
    string Name,
    double CpuCapacity,
    long MemoryBytes,
    double? BusyRatio,
    double? CalmWindowMaxBusyRatio,
    long? MemoryAvailableBytes,
    bool Maintenance,
    bool Reachable,
    bool Settling = false,
    DateTimeOffset? LastMigrationEndedAt = null,
    long? MemoryTotalBytes = null);

/// <summary>A running domain (libvirt's word for a VM).</summary>
/// <param name="Host">Where libvirt reports it running now.</param>
/// <param name="CpuShare">host_domain:libvirt_domain_cpu:ratio_rate1m: its CPU as a share of its host's capacity.</param>
/// <param name="MemoryBytes">libvirt_domain_memory_maximum_bytes: what it may take on a target.</param>
/// <param name="HomeHost">Where it belongs (inventory, else where it was first seen).</param>
/// <param name="AlsoOn">Another host libvirt shows it active on too (a migration under way, this process's or one by
/// hand, or the same domain started twice): it is not moved while that lasts.</param>
/// <param name="CopyBytes">libvirt_domain_memory_current_bytes: the memory a live migration copies; null: unknown,
/// <paramref name="MemoryBytes"/> is taken.</param>
/// <param name="DirtyBytesPerSecond">How fast the guest dirties its memory (copied again in each pre-copy round); null
/// where the input has no figure (the Exporter has none today).</param>
public sealed record DomainView(string Name, string Host, double CpuShare, long MemoryBytes, string? HomeHost, bool Pinned, string? AlsoOn = null,
    long? CopyBytes = null, double? DirtyBytesPerSecond = null);

/// <summary>What the journal remembers of a domain's moves.</summary>
/// <param name="LastMovedAt">Start of its last successful migration (orders "last moved returns first").</param>
/// <param name="LastMigrationEndedAt">End of its last migration of any outcome (starts its cooldown).</param>
/// <param name="RecentMigrations">Migrations within policy.backoffWindow (drives the back-off).</param>
/// <param name="CooldownFactor">Lengthens the cooldown: policy.didNotHelpCooldownFactor when its last move did not
/// help (verified from Prometheus), else 1.</param>
public sealed record DomainHistory(DateTimeOffset? LastMovedAt, DateTimeOffset? LastMigrationEndedAt, int RecentMigrations, double CooldownFactor = 1);

public sealed record MigrationInFlight(string Domain, string Source, string Target, DateTimeOffset StartedAt);

/// <summary>A migration that succeeded recently (from the journal): what the no-flapping rules look at.</summary>
public sealed record RecentMove(string Domain, string Source, string Target, DateTimeOffset StartedAt, DateTimeOffset EndedAt);

/// <summary>Everything one planning step needs; the planner reads nothing else.</summary>
/// <param name="Rules">The inventory's placement rules; null for none.</param>
/// <param name="RecentMoves">The migrations that succeeded within policy.maxMovesWindow or the longest cooldown
/// (whichever is longer), oldest first; null for none.</param>
/// <summary>The journal's last decision of one kind about one host.</summary>
/// <param name="NotSettlingAt">The last one whose reason was not settling (a wait for a host to settle opens no window).</param>
public sealed record LastDecision(DateTimeOffset At, DateTimeOffset? NotSettlingAt);

/// <summary>What one pass decides on: the planning input, the hosts to drain and to relieve, and the journal's last
/// decisions (for policy.decisionWindow).</summary>
/// <param name="Drains">Hosts in maintenance (drained in ordinal order, before any relief).</param>
/// <param name="Firing">Hosts whose alert fires, in the order the alerts came.</param>
/// <param name="LastDecisions">The journal's last decision per kind and host, at least those within policy.decisionWindow.</param>
/// <param name="DryRun">policy.dryRun: a move decided is not in flight for the decisions after it.</param>
/// <param name="MemoryFiring">Hosts whose memory alert (policy.memoryAlertName) fires, in the order the alerts came.</param>
/// <param name="ReturnHome">Whether to plan a return home; the simulator leaves it out when it knows the answer is no
/// action (which is never journaled).</param>
public sealed record PassInput(
    PlanningInput Planning,
    IReadOnlyCollection<string> Drains,
    IReadOnlyList<string> Firing,
    IReadOnlyDictionary<(DecisionKind Kind, string Host), LastDecision> LastDecisions,
    bool DryRun = false,
    bool ReturnHome = true,
    IReadOnlyList<string>? MemoryFiring = null);

public sealed record PlanningInput(
    IReadOnlyList<HostView> Hosts,
    IReadOnlyList<DomainView> Domains,
    IReadOnlyDictionary<string, DomainHistory> History,
    IReadOnlyList<MigrationInFlight> InFlight,
    PlanningPolicy Policy,
    DateTimeOffset Now,
    PlacementRules? Rules = null,
    IReadOnlyList<RecentMove>? RecentMoves = null);

/// <summary>The policy knobs the planner uses (a copy, so the planner does not depend on options binding).</summary>
public sealed record PlanningPolicy(
    double HighWatermark = 0.80,
    double LowWatermark = 0.50,
    TimeSpan? Cooldown = null,
    double CooldownBackoff = 2.0,
    TimeSpan? MaxCooldown = null,
    int MaxMigrationsInFlight = 1,
    int MaxMovesPerDomain = 3,
    TimeSpan? MaxMovesWindow = null,
    TimeSpan? DecisionWindow = null,
    TimeSpan? SettleTime = null,
    double MinGain = 0.05,
    double MigrationBytesPerSecond = 1e9,
    double MemoryHighWatermark = 0.90,
    double ReliefMargin = 0.05)
{
    /// <summary>Where a relief aims to leave both hosts: policy.highWatermark − policy.reliefMargin.</summary>
    public double ReliefAim => HighWatermark - ReliefMargin;

    public TimeSpan DecisionWindowOrDefault => DecisionWindow ?? TimeSpan.FromMinutes(1);

    public TimeSpan SettleTimeOrDefault => SettleTime ?? TimeSpan.FromSeconds(90);

    public TimeSpan CooldownOrDefault => Cooldown ?? TimeSpan.FromMinutes(5);

    public TimeSpan MaxCooldownOrDefault => MaxCooldown ?? TimeSpan.FromHours(1);

    public TimeSpan MaxMovesWindowOrDefault => MaxMovesWindow ?? TimeSpan.FromHours(1);

    /// <summary>How far back the input's <see cref="PlanningInput.RecentMoves"/> must reach.</summary>
    public TimeSpan RecentMovesReach => MaxMovesWindowOrDefault > MaxCooldownOrDefault ? MaxMovesWindowOrDefault : MaxCooldownOrDefault;

    public static PlanningPolicy From(Inventory.PolicyOptions o) =>
        new(o.HighWatermark, o.LowWatermark, o.Cooldown, o.CooldownBackoff, o.MaxCooldown, o.MaxMigrationsInFlight,
            o.MaxMovesPerDomain, o.MaxMovesWindow, o.DecisionWindow, o.SettleTime, o.MinGain, o.MigrationBytesPerSecond,
            o.MemoryHighWatermark, o.ReliefMargin);
}

public enum DecisionKind
{
    /// <summary>A host's HypervisorCpuHigh alert fires: move a domain off it.</summary>
    Relief,

    /// <summary>A domain away from home goes back.</summary>
    ReturnHome,

    /// <summary>A host in maintenance: move everything off it.</summary>
    Drain,

    /// <summary>A host's HypervisorMemoryHigh fires: move a domain off it to bring its memory under the mark.</summary>
    MemoryRelief,

    /// <summary>A hard placement rule is broken: the one move that repairs it.</summary>
    RuleRepair,
}

/// <summary>A hard placement rule the current placement breaks.</summary>
/// <param name="Rule">The rule's name as rejections carry it: <c>anti_affinity</c>, <c>must_run_on</c>, <c>never_on</c>.</param>
/// <param name="Host">Where it is broken.</param>
/// <param name="Domains">The domains that break it there (a move of any one of them repairs it, for anti-affinity all
/// members on the host but one).</param>
/// <param name="Detail">In words, e.g. "web1 and web2 of anti-affinity group web run on hv1".</param>
public sealed record RuleViolation(string Rule, string Host, IReadOnlyList<string> Domains, string Detail);

public enum DecisionOutcome
{
    Migrate,
    NoAction,
}

/// <summary>One move with the numbers that justify it.</summary>
/// <param name="DomainShare">The domain's CPU as a share of the source's capacity.</param>
/// <param name="Gain">The predicted effect: how much the higher busy ratio of the two hosts falls (before: the source's or
/// the target's, whichever is higher; after: likewise), see <see cref="PlanningContext.PlanMove"/>.</param>
/// <param name="CostBytes">The predicted cost: the bytes the live migration copies (its memory, and what the guest dirties
/// again during the copy, where the input has a dirty rate).</param>
/// <param name="CostSeconds">The same at policy.migrationBytesPerSecond.</param>
/// <param name="SourceMemoryBefore">The source's memory share (of its own memory) before the move, and so on; null
/// when the input has no memory figure for the host. For a memory relief <paramref name="Gain"/> is in memory shares.</param>
public sealed record MigrationPlan(
    string Domain,
    string Source,
    string Target,
    double DomainShare,
    long DomainMemoryBytes,
    double SourceBusyBefore,
    double SourceBusyAfter,
    double TargetBusyBefore,
    double TargetBusyAfter,
    double Gain = 0,
    long CostBytes = 0,
    double CostSeconds = 0,
    double? SourceMemoryBefore = null,
    double? SourceMemoryAfter = null,
    double? TargetMemoryBefore = null,
    double? TargetMemoryAfter = null);

/// <summary>The planner's answer: one migration with its reasons, or no action with the reason.</summary>
/// <param name="Host">The host the decision is about: the overloaded one, the drained one, or the home host.</param>
/// <param name="Reason">snake_case, used as the <c>reason</c> label of rebalancer_decisions_total.</param>
/// <param name="Rejected">The targets considered and rejected, each with the rule that rejected it; null when none.</param>
/// <param name="Considered">The moves the planner weighed (each domain's best target), the chosen one marked; null when none.</param>
public sealed record Decision(
    DecisionKind Kind,
    string Host,
    DecisionOutcome Outcome,
    string Reason,
    string Detail,
    MigrationPlan? Migration = null,
    IReadOnlyList<Rejection>? Rejected = null,
    IReadOnlyList<ConsideredMove>? Considered = null)
{
    public static Decision NoAction(DecisionKind kind, string host, string reason, string detail, IReadOnlyList<Rejection>? rejected = null) =>
        new(kind, host, DecisionOutcome.NoAction, reason, detail, null, rejected);
}

/// <summary>A move the planner weighed for a decision: its predicted effect, the soft rules it breaks, and whether it
/// was the one chosen.</summary>
/// <param name="Cost">The move's estimated cost in seconds (<see cref="MigrationPlan.CostSeconds"/>: the bytes to copy at
/// policy.migrationBytesPerSecond); null in explanations journaled before the planner estimated costs.</param>
public sealed record ConsideredMove(MigrationPlan Plan, IReadOnlyList<string> SoftBroken, bool Chosen, double? Cost = null);

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

    /// <summary>Every move that would relieve the host gains less than policy.minGain.</summary>
    public const string SmallGain = "small_gain";

    /// <summary>A memory relief's migrate reason: the host's memory share is over policy.memoryHighWatermark.</summary>
    public const string MemoryHigh = "memory_high";

    /// <summary>A memory relief's no-action: the host's memory share is not over the mark (or unknown).</summary>
    public const string MemoryNotHigh = "memory_not_high";

    /// <summary>A rule repair's migrate reason: a hard placement rule is broken.</summary>
    public const string RuleRepair = "rule_repair";

    /// <summary>No hard placement rule is broken (a rule repair's no-action, never journaled).</summary>
    public const string NoViolation = "no_violation";

    /// <summary>The reasons of a decision that migrates (outcome migrate, or dry_run under policy.dryRun).</summary>
    public static IReadOnlyList<string> ForMigration { get; } = [Overloaded, ReturnHome, Drain, MemoryHigh, RuleRepair];

    /// <summary>The reasons of a no_action decision.</summary>
    public static IReadOnlyList<string> ForNoAction { get; } =
        [NotOverloaded, NoMetrics, HostUnreachable, UnknownHost, InFlightLimit, HostInMigration, NoMovableDomain, NoTarget,
         NothingAway, HomeNotReady, DrainComplete, Settling, SmallGain, MemoryNotHigh, NoViolation];
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
