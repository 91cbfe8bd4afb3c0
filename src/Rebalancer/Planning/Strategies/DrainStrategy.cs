namespace Loadshift.Rebalancer.Planning.Strategies;

/// <summary>A host in maintenance: move its domains off, busiest first, to the hosts with most headroom.
/// Cooldowns do not apply: an operator asked for it.</summary>
internal sealed class DrainStrategy : IStrategy
{
    public DecisionKind Kind => DecisionKind.Drain;

    public Decision Plan(PlanningContext context, string? host)
    {
        var hostName = host ?? "";
        var kind = Kind;
        if (Gates.Source(context, kind, hostName, out var source) is { } gated)
        {
            return gated;
        }
        var movable = context.DomainsOn(hostName)
            .Where(d => context.Blocks(Planner.DrainDomainRules, d) is null)
            .OrderByDescending(d => d.CpuShare).ThenByDescending(d => d.MemoryBytes).ThenBy(d => d.Name, StringComparer.Ordinal)
            .ToList();
        if (movable.Count == 0)
        {
            var moving = string.Join(", ", context.DomainsOn(hostName).Where(d => !d.Pinned).Select(d => d.Name));
            if (moving.Length > 0)
            {
                // Not complete: what is left is in a migration (or libvirt shows it on two hosts).
                return Decision.NoAction(kind, hostName, Reasons.HostInMigration, $"{hostName} is in maintenance; in a migration: {moving}");
            }
            var pinned = string.Join(", ", context.DomainsOn(hostName).Where(d => d.Pinned).Select(d => d.Name));
            return Decision.NoAction(kind, hostName, Reasons.DrainComplete,
                pinned.Length == 0 ? $"{hostName} holds no movable domain" : $"{hostName} holds only pinned domains: {pinned}");
        }
        if (Gates.InFlightLimit(context, kind, hostName) is { } limit)
        {
            return limit;
        }
        var rejected = new List<Rejection>();
        foreach (var domain in movable)
        {
            if (context.BestTarget(Planner.TargetRules, domain, source, rejected) is { } chosen)
            {
                return new Decision(kind, hostName, DecisionOutcome.Migrate, Reasons.Drain,
                    $"{hostName} is in maintenance; {Planner.Describe(chosen.Plan)}{Strategy.SoftNote(chosen)}", chosen.Plan, rejected,
                    Candidate.Considered([chosen], chosen));
            }
        }
        return Decision.NoAction(kind, hostName, Reasons.NoTarget,
            $"{hostName} is in maintenance but no host has room for {string.Join(", ", movable.Select(d => d.Name))}", rejected);
    }
}
