using System.Globalization;
using System.Text;

namespace Loadshift.Rebalancer.Planning.Strategies;

/// <summary>A host's HypervisorCpuHigh fires: among the domains whose move leaves the source and the target at the
/// relief aim (policy.highWatermark − policy.reliefMargin) or under, the cheapest to move (the bytes a live migration
/// copies; within 5% a tie, won by the least load moved); when none does, the cheapest whose move brings the source
/// under the high watermark; else the busiest (as the seed's main_script.sh did); each to the host with the most
/// headroom after the move. A move that breaks fewer soft rules is preferred to one that breaks more, before the aim; a
/// move that gains less than policy.minGain is not made.</summary>
/// <remarks>The aim: a relief that leaves the source just under the high watermark, or fills its target up to it, is
/// taken back over by the next minutes' noise. Measured on the simulator (docs/simulation.md, "The relief margin"): on
/// ten generated 20-host weeks a margin of 0.05 made 10-12% fewer migrations and fewer moves that did not help (50 -> 21 bursty,
/// 571 -> 507 diurnal) at the same overload time; on the 200-host diurnal week 2% fewer migrations.</remarks>
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
        var relieving = new List<Candidate>();
        var aimed = new List<Candidate>();
        var aim = context.Policy.ReliefAim;
        var considered = new List<Candidate>();
        Candidate? busiest = null;
        var smallGain = 0;
        foreach (var domain in candidates)
        {
            // A move gains at most what it takes off the source: every target the rules let in stays under the high
            // watermark, so under the source. A domain too light to gain policy.minGain is not weighed against every
            // host (on a crowded cluster of light domains, most of them: the simulator's 200-host week, issue 11).
            var most = busy - Math.Max(0, busy - domain.CpuShare);
            if (most < context.Policy.MinGain)
            {
                smallGain++;
                skipped.Append(CultureInfo.InvariantCulture,
                    $" {domain.Name}: gains at most {Planner.F(most)}, under policy.minGain {Planner.F(context.Policy.MinGain)};");
                continue;
            }
            if (context.BestTarget(Planner.ReliefTargetRules, domain, source, rejected) is not { } candidate)
            {
                skipped.Append(CultureInfo.InvariantCulture, $" {domain.Name}: no host has room;");
                continue;
            }
            considered.Add(candidate);
            if (candidate.Plan.Gain < context.Policy.MinGain)
            {
                smallGain++;
                skipped.Append(CultureInfo.InvariantCulture,
                    $" {domain.Name}: gains {Planner.F(candidate.Plan.Gain)}, under policy.minGain {Planner.F(context.Policy.MinGain)};");
                continue;
            }
            if (candidate.Plan.SourceBusyAfter < high)
            {
                relieving.Add(candidate);
                if (candidate.Plan.SourceBusyAfter <= aim && candidate.Plan.TargetBusyAfter <= aim)
                {
                    aimed.Add(candidate);
                }
            }
            if (busiest is null || Busier(candidate, busiest))
            {
                busiest = candidate;
            }
        }
        // The aim comes after the soft rules: a move that breaks one is made only when no move that breaks fewer relieves
        // the host (issue 12), whether or not it reaches the aim.
        var fewest = relieving.Count > 0 ? relieving.Min(c => c.Penalty) : 0;
        var aimedChoice = Strategy.Cheapest(aimed.Where(c => c.Penalty == fewest).ToList());
        var chosen = aimedChoice ?? Strategy.Cheapest(relieving) ?? busiest;
        if (chosen is null)
        {
            if (context.Input.Hosts.Where(h => h.Settling && h.Name != hostName).Select(h => h.Name).ToList() is { Count: > 0 } settling)
            {
                skipped.Append(CultureInfo.InvariantCulture, $" settling from a migration, taking nothing yet: {string.Join(", ", settling)};");
            }
            if (smallGain > 0)
            {
                return Decision.NoAction(kind, hostName, Reasons.SmallGain,
                    $"{hostName} busy {Planner.F(busy)} > {Planner.F(high)} but no move gains policy.minGain {Planner.F(context.Policy.MinGain)}:{skipped}",
                    rejected);
            }
            return Decision.NoAction(kind, hostName, Reasons.NoTarget,
                $"{hostName} busy {Planner.F(busy)} > {Planner.F(high)} but no target stays under {Planner.F(high)} with memory to spare:{skipped}",
                rejected);
        }
        var why = aimedChoice is not null
            ? $"the cheapest move that brings it under the high watermark and leaves both hosts at {Planner.F(aim)} or under (policy.reliefMargin)"
            : relieving.Count > 0
                ? aimed.Count > 0
                    ? $"the cheapest move that brings it under the high watermark (those that leave both hosts at {Planner.F(aim)} or under, policy.reliefMargin, break more soft rules)"
                    : $"the cheapest move that brings it under the high watermark (none leaves both hosts at {Planner.F(aim)} or under, policy.reliefMargin)"
                : "no single move brings it under the high watermark, so the busiest domain";
        return new Decision(kind, hostName, DecisionOutcome.Migrate, Reasons.Overloaded,
            $"{hostName} busy {Planner.F(busy)} > {Planner.F(high)}: {why}; {Planner.Describe(chosen.Plan)}{Strategy.SoftNote(chosen)}",
            chosen.Plan, rejected, Candidate.Considered(considered, chosen));
    }

    /// <summary>Fewer soft rules broken first; then the heavier domain (by name on a tie: the lighter of equals is the
    /// later name).</summary>
    private static bool Busier(Candidate a, Candidate b) =>
        a.Penalty != b.Penalty ? a.Penalty < b.Penalty : Lighter(b.Plan, a.Plan);

    internal static bool Lighter(MigrationPlan a, MigrationPlan b) =>
        a.DomainShare < b.DomainShare || (a.DomainShare == b.DomainShare && string.CompareOrdinal(a.Domain, b.Domain) < 0);
}
