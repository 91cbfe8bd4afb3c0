using System.Globalization;
using Loadshift.Rebalancer.Planning.Rules;
using Loadshift.Rebalancer.Planning.Strategies;

namespace Loadshift.Rebalancer.Planning;

/// <summary>Decides one move at a time. A pure function of <see cref="PlanningInput"/>: no I/O, no clock,
/// no randomness, so every decision can be replayed from the journal and tested on fixtures.</summary>
/// <remarks>Each kind of decision is a strategy (<see cref="IStrategy"/>, one file each under Strategies/); the gates
/// they share are in <see cref="Gates"/>; what keeps a domain in place or off a target is a named rule under Rules/,
/// registered in the lists below. Prediction: see <see cref="PlanningContext.PlanMove"/>.</remarks>
public static class Planner
{
    /// <summary>What keeps a domain from being moved for relief.</summary>
    internal static readonly IReadOnlyList<IDomainRule> ReliefDomainRules =
        [new Pinned(), new Gates.InMigration(), new SeenTwice(), new Gates.CoolingDown(), new MoveLimit(), new NoCpuFigure()];

    /// <summary>What keeps a domain from being moved for a memory relief: relief's rules but the CPU figure (a domain's
    /// memory is known without it).</summary>
    internal static readonly IReadOnlyList<IDomainRule> MemoryReliefDomainRules =
        [new Pinned(), new Gates.InMigration(), new SeenTwice(), new Gates.CoolingDown(), new MoveLimit()];

    /// <summary>What keeps a domain away from home: the per-domain move limit (the calm window is a target rule).</summary>
    internal static readonly IReadOnlyList<IDomainRule> HomeDomainRules = [new MoveLimit()];

    /// <summary>What keeps a domain from being moved for a drain: cooldowns do not apply, an operator asked for it.</summary>
    internal static readonly IReadOnlyList<IDomainRule> DrainDomainRules = [new Pinned(), new SeenTwice(), new Gates.InMigration()];

    /// <summary>The inventory's hard placement rules: no move breaks them.</summary>
    internal static readonly IReadOnlyList<ITargetRule> PlacementHardRules = [new RunOn(hard: true), new NeverOn(), new AntiAffinity(hard: true)];

    /// <summary>The inventory's soft placement rules: each one a move breaks costs a penalty.</summary>
    internal static readonly IReadOnlyList<ITargetRule> SoftRules = [new AntiAffinity(hard: false), new Affinity(), new RunOn(hard: false)];

    /// <summary>What keeps a domain off a target of a drain.</summary>
    internal static readonly IReadOnlyList<ITargetRule> TargetRules =
        [new Unreachable(), new InMaintenance(), new NoMetrics(), new Gates.TargetInMigration(), new Gates.TargetSettling(),
         .. PlacementHardRules, new Watermark(low: false), new MemoryFit(), new MemoryWatermark(), .. SoftRules];

    /// <summary>What keeps a domain off a target of relief: a drain's rules, and no move undoes a recent one.</summary>
    internal static readonly IReadOnlyList<ITargetRule> ReliefTargetRules = [new UndoesMove(), .. TargetRules];

    /// <summary>What keeps a domain from going home (the home host is the only target). The low watermark, not the high
    /// one, bounds the home host's predicted busy ratio: it is the mark the home host was calm under.</summary>
    internal static readonly IReadOnlyList<ITargetRule> HomeRules =
        [new Unreachable(), new InMaintenance(), new Gates.TargetInMigration(), new CalmWindow(),
         .. PlacementHardRules, new Watermark(low: true), new MemoryFit(), new MemoryWatermark(), .. SoftRules];

    private static readonly ReliefStrategy Relief = new();
    private static readonly ReturnHomeStrategy ReturnHome = new();
    private static readonly DrainStrategy Drain = new();
    private static readonly MemoryReliefStrategy MemoryRelief = new();
    private static readonly RuleRepairStrategy RuleRepair = new();

    /// <summary>A host's HypervisorCpuHigh fires: see <see cref="ReliefStrategy"/>.</summary>
    public static Decision PlanRelief(PlanningInput input, string hostName) => Relief.Plan(new PlanningContext(input), hostName);

    /// <summary>Bring one domain home: see <see cref="ReturnHomeStrategy"/>.</summary>
    public static Decision PlanReturnHome(PlanningInput input) => ReturnHome.Plan(new PlanningContext(input), null);

    /// <summary>A host in maintenance: see <see cref="DrainStrategy"/>.</summary>
    public static Decision PlanDrain(PlanningInput input, string hostName) => Drain.Plan(new PlanningContext(input), hostName);

    /// <summary>A host's HypervisorMemoryHigh fires: see <see cref="MemoryReliefStrategy"/>.</summary>
    public static Decision PlanMemoryRelief(PlanningInput input, string hostName) => MemoryRelief.Plan(new PlanningContext(input), hostName);

    /// <summary>A hard rule found broken: see <see cref="RuleRepairStrategy"/>.</summary>
    public static Decision PlanRuleRepair(PlanningInput input) => PlanRuleRepair(new PlanningContext(input));

    private static Decision PlanRuleRepair(PlanningContext context) =>
        HasHardRules(context.Input)
            ? RuleRepair.Plan(context, null)
            : Decision.NoAction(DecisionKind.RuleRepair, "", Reasons.NoViolation, "no hard rule is broken");

    /// <summary>The inventory has a hard rule a placement can break (a step over 10,000 domains without one indexes
    /// nothing for it).</summary>
    private static bool HasHardRules(PlanningInput input) =>
        input.Rules is { } rules && (rules.AntiAffinity.Any(g => g.Hard) || rules.DomainHost.Any(r => r.Must.Count + r.Never.Count > 0));

    /// <summary>The hard placement rules the current placement breaks (libvirt's placement; a domain in a migration
    /// counts where it runs): anti-affinity groups with two members on one host, domains off their <c>must</c> hosts
    /// or on a <c>never</c> host. Ordered by rule, host and domain.</summary>
    public static IReadOnlyList<RuleViolation> Violations(PlanningInput input) => HasHardRules(input) ? Violations(new PlanningContext(input)) : [];

    internal static IReadOnlyList<RuleViolation> Violations(PlanningContext context)
    {
        var violations = new List<RuleViolation>();
        var rules = context.Input.Rules ?? PlacementRules.None;
        var hostOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var domain in context.Input.Domains)
        {
            hostOf[domain.Name] = domain.Host;
        }
        foreach (var group in rules.AntiAffinity.Where(g => g.Hard))
        {
            foreach (var together in group.Domains.Where(hostOf.ContainsKey).GroupBy(d => hostOf[d], StringComparer.Ordinal).Where(g => g.Count() > 1))
            {
                var members = together.Order(StringComparer.Ordinal).ToList();
                violations.Add(new RuleViolation("anti_affinity", together.Key, members,
                    $"{string.Join(" and ", members)} of anti-affinity group {group.Name} run on {together.Key}"));
            }
        }
        foreach (var rule in rules.DomainHost)
        {
            if (!hostOf.TryGetValue(rule.Domain, out var on))
            {
                continue;
            }
            if (rule.Must.Count > 0 && !rule.Must.Contains(on))
            {
                violations.Add(new RuleViolation("must_run_on", on, [rule.Domain], $"{rule.Domain} runs on {on}, must run on {string.Join(", ", rule.Must)}"));
            }
            if (rule.Never.Contains(on))
            {
                violations.Add(new RuleViolation("never_on", on, [rule.Domain], $"{rule.Domain} runs on {on}, never on it by rule"));
            }
        }
        return [.. violations.OrderBy(v => v.Rule, StringComparer.Ordinal).ThenBy(v => v.Host, StringComparer.Ordinal)
            .ThenBy(v => v.Domains[0], StringComparer.Ordinal)];
    }

    /// <summary>One pass: drains first (hosts in ordinal order), then relief for each firing host, memory relief for each
    /// host whose memory alert fires, then a rule repair, then the return home;
    /// returns the decisions to journal, in order. A move decided is in flight for the decisions after it (unless a dry
    /// run). The pass's gates: a host in a migration or within policy.settleTime of one gets a <c>settling</c> no-action
    /// (once per policy.decisionWindow) and nothing else; relief once per host per window (a settling wait does not
    /// count); a drain's or a return's no-action (or dry run) once per window; a return-home no-action, or a return to
    /// a home settling, is not journaled.</summary>
    public static IReadOnlyList<Decision> PlanPass(PassInput pass)
    {
        var decisions = new List<Decision>();
        var input = pass.Planning;
        // One context (its indexes over every domain) for the pass's steps until a move changes the input: a pass with
        // many firing hosts asked each of them on indexes of its own (the simulator's 200-host week: five times as long).
        PlanningContext? context = null;
        void Step(DecisionKind kind, string? host, Func<PlanningContext, Decision> plan)
        {
            if (host is not null && Gates.Settling(input, host) is { } settling)
            {
                // Said once per window, so that a firing alert with no move has its reason in the journal too.
                if (!Gates.WithinWindow(pass, kind, host, exceptSettling: false))
                {
                    decisions.Add(Decision.NoAction(kind, host, Reasons.Settling, settling));
                }
                return;
            }
            // One relief per host per window, however often Alertmanager repeats itself (a wait to settle does not count:
            // the relief follows as soon as the host has settled).
            if (kind is DecisionKind.Relief or DecisionKind.MemoryRelief && Gates.WithinWindow(pass, kind, host!, exceptSettling: true))
            {
                return;
            }
            var decision = plan(context ??= new PlanningContext(input));
            // A return home and a rule repair are asked every pass: only moves are journaled, once the host settled from
            // the last one (a broken rule is reported by the metric and the API, not by a decision each pass).
            if (kind is DecisionKind.ReturnHome or DecisionKind.RuleRepair && (decision.Outcome == DecisionOutcome.NoAction || Gates.Settling(input, decision.Host) is not null))
            {
                return;
            }
            // Drains and returns move one domain after another; a repeated no-action or dry-run answer is journaled once per window.
            if (kind is DecisionKind.Drain or DecisionKind.ReturnHome or DecisionKind.RuleRepair && (decision.Outcome == DecisionOutcome.NoAction || pass.DryRun)
                && Gates.WithinWindow(pass, kind, decision.Host, exceptSettling: false))
            {
                return;
            }
            decisions.Add(decision);
            if (decision.Migration is { } move && !pass.DryRun)
            {
                input = input with { InFlight = [.. input.InFlight, new MigrationInFlight(move.Domain, move.Source, move.Target, input.Now)] };
                context = null;
            }
        }
        foreach (var host in pass.Drains.Order(StringComparer.Ordinal))
        {
            Step(DecisionKind.Drain, host, c => Drain.Plan(c, host));
        }
        foreach (var host in pass.Firing)
        {
            Step(DecisionKind.Relief, host, c => Relief.Plan(c, host));
        }
        foreach (var host in pass.MemoryFiring ?? [])
        {
            Step(DecisionKind.MemoryRelief, host, c => MemoryRelief.Plan(c, host));
        }
        Step(DecisionKind.RuleRepair, null, PlanRuleRepair);
        if (pass.ReturnHome)
        {
            Step(DecisionKind.ReturnHome, null, c => ReturnHome.Plan(c, null));
        }
        return decisions;
    }

    /// <inheritdoc cref="Gates.CooldownUntil"/>
    public static DateTimeOffset? CooldownUntil(DomainHistory? history, PlanningPolicy policy) => Gates.CooldownUntil(history, policy);

    internal static string Describe(MigrationPlan p) =>
        $"{p.Domain} ({F(p.DomainShare)} of {p.Source}) to {p.Target}: {p.Source} {F(p.SourceBusyBefore)} -> {F(p.SourceBusyAfter)}, " +
        $"{p.Target} {F(p.TargetBusyBefore)} -> {F(p.TargetBusyAfter)}";

    internal static string F(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);
}
