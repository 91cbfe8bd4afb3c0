using System.Globalization;
using System.Text;

namespace Loadshift.Rebalancer.Planning.Strategies;

/// <summary>A host's HypervisorCpuHigh fires: pick the domain whose move brings it under the high watermark while
/// moving the least load (else the busiest, as the seed's main_script.sh did), and send it to the host with the most
/// headroom after the move. A move that breaks no soft rule is preferred to one that does.</summary>
internal sealed class ReliefStrategy : IStrategy
{
    public DecisionKind Kind => DecisionKind.Relief;

    public Decision Plan(PlanningContext context, string? host)
    {
        var hostName = host ?? "";
        var kind = Kind;
        if (Gates.Source(context, kind, hostName, out var source) is { } gated)
        {
            return gated;
        }
        if (source.BusyRatio is not double busy)
        {
            return Decision.NoAction(kind, hostName, Reasons.NoMetrics, $"Prometheus has no busy ratio for {hostName}");
        }
        var high = context.Policy.HighWatermark;
        if (busy <= high)
        {
            return Decision.NoAction(kind, hostName, Reasons.NotOverloaded,
                $"{hostName} busy {Planner.F(busy)} is not above the high watermark {Planner.F(high)}");
        }
        if ((Gates.InFlightLimit(context, kind, hostName) ?? Gates.HostInMigration(context, kind, hostName)) is { } busyGate)
        {
            return busyGate;
        }

        var skipped = new StringBuilder();
        var candidates = new List<DomainView>();
        foreach (var domain in context.DomainsOn(hostName))
        {
            if (context.Blocks(Planner.ReliefDomainRules, domain) is { } reason)
            {
                skipped.Append(CultureInfo.InvariantCulture, $" {domain.Name}: {reason};");
            }
            else
            {
                candidates.Add(domain);
            }
        }
        if (candidates.Count == 0)
        {
            return Decision.NoAction(kind, hostName, Reasons.NoMovableDomain,
                $"{hostName} busy {Planner.F(busy)} > {Planner.F(high)} but no domain may move:{skipped}");
        }

        var rejected = new List<Rejection>();
        Candidate? lightestRelieving = null;
        Candidate? busiest = null;
        foreach (var domain in candidates)
        {
            if (context.BestTarget(Planner.ReliefTargetRules, domain, source, rejected) is not { } candidate)
            {
                skipped.Append(CultureInfo.InvariantCulture, $" {domain.Name}: no host has room;");
                continue;
            }
            if (candidate.Plan.SourceBusyAfter < high && (lightestRelieving is null || Preferred(candidate, lightestRelieving, lighter: true)))
            {
                lightestRelieving = candidate;
            }
            if (busiest is null || Preferred(candidate, busiest, lighter: false))
            {
                busiest = candidate;
            }
        }
        var chosen = lightestRelieving ?? busiest;
        if (chosen is null)
        {
            if (context.Input.Hosts.Where(h => h.Settling && h.Name != hostName).Select(h => h.Name).ToList() is { Count: > 0 } settling)
            {
                skipped.Append(CultureInfo.InvariantCulture, $" settling from a migration, taking nothing yet: {string.Join(", ", settling)};");
            }
            return Decision.NoAction(kind, hostName, Reasons.NoTarget,
                $"{hostName} busy {Planner.F(busy)} > {Planner.F(high)} but no target stays under {Planner.F(high)} with memory to spare:{skipped}",
                rejected);
        }
        var why = lightestRelieving is not null
            ? "the lightest domain whose move brings it under the high watermark"
            : "no single move brings it under the high watermark, so the busiest domain";
        return new Decision(kind, hostName, DecisionOutcome.Migrate, Reasons.Overloaded,
            $"{hostName} busy {Planner.F(busy)} > {Planner.F(high)}: {why}; {Planner.Describe(chosen.Plan)}{Strategy.SoftNote(chosen)}",
            chosen.Plan, rejected);
    }

    /// <summary>Fewer soft rules broken first; then the lighter (or the heavier) domain, by name on a tie.</summary>
    private static bool Preferred(Candidate a, Candidate b, bool lighter)
    {
        if (a.Penalty != b.Penalty)
        {
            return a.Penalty < b.Penalty;
        }
        return lighter ? Lighter(a.Plan, b.Plan) : Lighter(b.Plan, a.Plan);
    }

    private static bool Lighter(MigrationPlan a, MigrationPlan b) =>
        a.DomainShare < b.DomainShare || (a.DomainShare == b.DomainShare && string.CompareOrdinal(a.Domain, b.Domain) < 0);
}
