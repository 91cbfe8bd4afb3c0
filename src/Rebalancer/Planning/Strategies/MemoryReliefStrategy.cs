using System.Globalization;
using System.Text;

namespace Loadshift.Rebalancer.Planning.Strategies;

/// <summary>A host's HypervisorMemoryHigh fires: its memory share (of its own memory) is over
/// policy.memoryHighWatermark. Among the domains whose move brings it under the mark, the cheapest to move (the bytes a
/// live migration copies), else the one that frees the most memory; to the target with the most CPU headroom that
/// stays under both watermarks (<see cref="Planner.ReliefTargetRules"/>). A move whose memory gain (how much the higher
/// memory share of source and target falls) is under policy.minGain is not made.</summary>
internal sealed class MemoryReliefStrategy : IStrategy
{
    public DecisionKind Kind => DecisionKind.MemoryRelief;

    public Decision Plan(PlanningContext context, string? host)
    {
        var hostName = host ?? "";
        var kind = Kind;
        if (Gates.Source(context, kind, hostName, out var source) is { } gated)
        {
            return gated;
        }
        var mark = context.Policy.MemoryHighWatermark;
        if (context.MemoryShare(source) is not double share)
        {
            return Decision.NoAction(kind, hostName, Reasons.MemoryNotHigh, $"no memory figure for {hostName}");
        }
        if (share <= mark)
        {
            return Decision.NoAction(kind, hostName, Reasons.MemoryNotHigh,
                $"{hostName} memory {Planner.F(share)} is not above the memory high watermark {Planner.F(mark)}");
        }
        if ((Gates.InFlightLimit(context, kind, hostName) ?? Gates.HostInMigration(context, kind, hostName)) is { } busyGate)
        {
            return busyGate;
        }
        var skipped = new StringBuilder();
        var rejected = new List<Rejection>();
        var relieving = new List<Candidate>();
        var considered = new List<Candidate>();
        Candidate? largest = null;
        var smallGain = 0;
        var movable = 0;
        foreach (var domain in context.DomainsOn(hostName))
        {
            if (context.Blocks(Planner.MemoryReliefDomainRules, domain) is { } reason)
            {
                skipped.Append(CultureInfo.InvariantCulture, $" {domain.Name}: {reason};");
                continue;
            }
            movable++;
            // A move frees at most the domain's own share of the source: every target the rules let in stays under the
            // memory high watermark, so under the source. A domain too small to gain policy.minGain is not weighed
            // against every host (as in relief).
            var most = share - (context.MemoryShareWith(source, domain, -1) ?? share);
            if (most < context.Policy.MinGain)
            {
                smallGain++;
                skipped.Append(CultureInfo.InvariantCulture,
                    $" {domain.Name}: frees at most {Planner.F(most)} of memory, under policy.minGain {Planner.F(context.Policy.MinGain)};");
                continue;
            }
            if (context.BestTarget(Planner.ReliefTargetRules, domain, source, rejected) is not { } candidate)
            {
                skipped.Append(CultureInfo.InvariantCulture, $" {domain.Name}: no host has room;");
                continue;
            }
            var plan = candidate.Plan;
            var gain = Math.Max(share, plan.TargetMemoryBefore ?? 0) - Math.Max(plan.SourceMemoryAfter ?? share, plan.TargetMemoryAfter ?? 0);
            candidate = candidate with { Plan = plan with { Gain = gain } };
            considered.Add(candidate);
            if (gain < context.Policy.MinGain)
            {
                smallGain++;
                skipped.Append(CultureInfo.InvariantCulture, $" {domain.Name}: frees {Planner.F(gain)} of memory, under policy.minGain {Planner.F(context.Policy.MinGain)};");
                continue;
            }
            if (plan.SourceMemoryAfter < mark)
            {
                relieving.Add(candidate);
            }
            if (largest is null || candidate.Penalty < largest.Penalty
                || (candidate.Penalty == largest.Penalty && plan.DomainMemoryBytes > largest.Plan.DomainMemoryBytes))
            {
                largest = candidate;
            }
        }
        if (movable == 0)
        {
            return Decision.NoAction(kind, hostName, Reasons.NoMovableDomain,
                $"{hostName} memory {Planner.F(share)} > {Planner.F(mark)} but no domain may move:{skipped}");
        }
        var chosen = Strategy.Cheapest(relieving) ?? largest;
        if (chosen is null)
        {
            return Decision.NoAction(kind, hostName, smallGain > 0 ? Reasons.SmallGain : Reasons.NoTarget,
                $"{hostName} memory {Planner.F(share)} > {Planner.F(mark)} but no move relieves it:{skipped}", rejected);
        }
        var why = relieving.Count > 0
            ? "the cheapest move that brings its memory under the mark"
            : "no single move brings its memory under the mark, so the largest domain";
        var p = chosen.Plan;
        return new Decision(kind, hostName, DecisionOutcome.Migrate, Reasons.MemoryHigh,
            $"{hostName} memory {Planner.F(share)} > {Planner.F(mark)}: {why}; {p.Domain} to {p.Target}: memory {p.Source} " +
            $"{Planner.F(share)} -> {Planner.F(p.SourceMemoryAfter ?? 0)}, {p.Target} {Planner.F(p.TargetMemoryBefore ?? 0)} -> " +
            $"{Planner.F(p.TargetMemoryAfter ?? 0)}; {Planner.Describe(p)}{Strategy.SoftNote(chosen)}",
            p, rejected, Candidate.Considered(considered, chosen));
    }
}
