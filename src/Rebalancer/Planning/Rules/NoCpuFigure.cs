namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>No load figure yet (just started, say): moving it blind relieves nothing.</summary>
internal sealed class NoCpuFigure : IDomainRule
{
    public string? Blocks(PlanningContext context, DomainView domain) => domain.CpuShare > 0 ? null : "no CPU figure";
}
