namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>No domain moves more than policy.maxMovesPerDomain times within policy.maxMovesWindow (issue 12, item 6: the
/// VMs that bounce back and forth of ProxLB's trackers). Counts the input's recent moves by their start.</summary>
internal sealed class MoveLimit : IDomainRule
{
    public string? Blocks(PlanningContext context, DomainView domain)
    {
        var policy = context.Policy;
        var moves = context.MovesWithinWindow(domain.Name);
        return moves >= policy.MaxMovesPerDomain
            ? $"moved {moves} time(s) within policy.maxMovesWindow ({Inventory.DurationConverter.Format(policy.MaxMovesWindowOrDefault)}), limit {policy.MaxMovesPerDomain}"
            : null;
    }
}
