namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>The inventory's <c>pinned</c>: the domain never moves, not even for a drain.</summary>
internal sealed class Pinned : IDomainRule
{
    public string? Blocks(PlanningContext context, DomainView domain) => domain.Pinned ? "pinned" : null;
}
