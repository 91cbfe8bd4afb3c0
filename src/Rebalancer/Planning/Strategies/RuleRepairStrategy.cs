namespace Loadshift.Rebalancer.Planning.Strategies;

/// <summary>A hard placement rule found broken (a migration by hand, a domain started on the wrong host): one move that
/// repairs it, if one does without breaking another hard rule or taking a host over a watermark (the relief's target
/// rules). For anti-affinity, any member on the shared host but one may move; for must and never, the domain itself.
/// The first violation that one move repairs, in the order <see cref="Planner.Violations"/> lists them.</summary>
internal sealed class RuleRepairStrategy : IStrategy
{
    public DecisionKind Kind => DecisionKind.RuleRepair;

    public Decision Plan(PlanningContext context, string? host)
    {
        var kind = Kind;
        var violations = Planner.Violations(context);
        if (violations.Count == 0)
        {
            return Decision.NoAction(kind, "", Reasons.NoViolation, "no hard rule is broken");
        }
        if (Gates.InFlightLimit(context, kind, violations[0].Host) is { } gated)
        {
            return gated;
        }
        var rejected = new List<Rejection>();
        var notRepaired = new System.Text.StringBuilder();
        foreach (var violation in violations)
        {
            if (!context.Hosts.TryGetValue(violation.Host, out var source) || !source.Reachable || context.HostsInFlight.Contains(violation.Host))
            {
                notRepaired.Append(System.Globalization.CultureInfo.InvariantCulture, $" {violation.Detail}: {violation.Host} is unreachable or in a migration;");
                continue;
            }
            foreach (var domain in context.DomainsOn(violation.Host).Where(d => violation.Domains.Contains(d.Name)))
            {
                if (context.Blocks(Planner.MemoryReliefDomainRules, domain) is { } blocked)
                {
                    notRepaired.Append(System.Globalization.CultureInfo.InvariantCulture, $" {domain.Name}: {blocked};");
                    continue;
                }
                if (context.BestTarget(Planner.ReliefTargetRules, domain, source, rejected) is { } chosen)
                {
                    return new Decision(kind, violation.Host, DecisionOutcome.Migrate, Reasons.RuleRepair,
                        $"{violation.Detail}; {Planner.Describe(chosen.Plan)}{Strategy.SoftNote(chosen)}", chosen.Plan, rejected);
                }
                notRepaired.Append(System.Globalization.CultureInfo.InvariantCulture, $" {domain.Name}: no host takes it;");
            }
        }
        return Decision.NoAction(kind, violations[0].Host, Reasons.NoTarget, $"no one move repairs a broken rule:{notRepaired}", rejected);
    }
}
