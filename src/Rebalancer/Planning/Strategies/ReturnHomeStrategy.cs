using System.Globalization;
using System.Text;

namespace Loadshift.Rebalancer.Planning.Strategies;

/// <summary>Bring one domain home: the last moved first, once its home host stayed under the low watermark for the
/// calm window and the return keeps it under the high watermark (<see cref="Planner.HomeRules"/>). A return breaks
/// no hard rule, and no more soft rules than staying breaks.</summary>
internal sealed class ReturnHomeStrategy : IStrategy
{
    public DecisionKind Kind => DecisionKind.ReturnHome;

    public Decision Plan(PlanningContext context, string? host)
    {
        var kind = Kind;
        var input = context.Input;
        var away = input.Domains
            .Where(d => d.HomeHost is not null && d.HomeHost != d.Host && !d.Pinned && !context.DomainsInFlight.Contains(d.Name))
            .OrderByDescending(d => input.History.GetValueOrDefault(d.Name)?.LastMovedAt ?? DateTimeOffset.MinValue)
            .ThenBy(d => d.Name, StringComparer.Ordinal)
            .ToList();
        if (away.Count == 0)
        {
            return Decision.NoAction(kind, "", Reasons.NothingAway, "every domain is on its home host");
        }
        if (Gates.InFlightLimit(context, kind, away[0].HomeHost!) is { } gated)
        {
            return gated;
        }
        var rejected = new List<Rejection>();
        var notReady = new StringBuilder();
        foreach (var domain in away)
        {
            string why;
            if (domain.AlsoOn is { } other)
            {
                why = $"libvirt shows it on {domain.Host} and {other}";
            }
            else if (context.Blocks(Planner.HomeDomainRules, domain) is { } blocked)
            {
                why = blocked;
            }
            else if (!context.Hosts.TryGetValue(domain.HomeHost!, out var home))
            {
                why = $"home {domain.HomeHost} is not in the inventory";
            }
            else if (!context.Hosts.TryGetValue(domain.Host, out var current))
            {
                why = $"{domain.Host} is not in the inventory";
            }
            else if (context.HostsInFlight.Contains(domain.Host))
            {
                why = $"{home.Name} or {domain.Host} is in a migration";
            }
            else
            {
                var weight = context.Weigh(Planner.HomeRules, domain, current, home);
                if (weight.RejectedBy is not null)
                {
                    var rejection = context.Rejection(weight, domain, home);
                    PlanningContext.Reject(rejected, rejection);
                    why = rejection.Reason;
                }
                else if (weight.Penalty > context.Weigh(Planner.SoftRules, domain, current, current).Penalty)
                {
                    why = $"going home breaks {string.Join("; ", context.Candidate(weight, domain, current, home).SoftBroken)}";
                }
                else
                {
                    var candidate = context.Candidate(weight, domain, current, home);
                    var calmMax = home.CalmWindowMaxBusyRatio ?? 0;
                    return new Decision(kind, home.Name, DecisionOutcome.Migrate, Reasons.ReturnHome,
                        $"{home.Name} stayed under {Planner.F(context.Policy.LowWatermark)} (at most {calmMax.ToString("0.000", CultureInfo.InvariantCulture)}); " +
                        $"{Planner.Describe(candidate.Plan)}{Strategy.SoftNote(candidate)}", candidate.Plan, rejected,
                        Candidate.Considered([candidate], candidate));
                }
            }
            notReady.Append(CultureInfo.InvariantCulture, $" {domain.Name}: {why};");
        }
        return Decision.NoAction(kind, away[0].HomeHost!, Reasons.HomeNotReady, $"no domain can return yet:{notReady}", rejected);
    }
}
