namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>No move undoes a recent one: a domain that came from the target to where it runs is not sent back there
/// within its cooldown after that move (A to B, then B to A). A return home after its calm window is the exception
/// (<see cref="Planner.HomeRules"/> leave this rule out); so is a drain, an operator's order.</summary>
internal sealed class UndoesMove : ITargetRule
{
    public string Name => "undoes_move";

    public bool Hard => true;

    public bool Rejects(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
        Undone(context, domain, target) is not null;

    public string Reason(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
        Undone(context, domain, target) is { } move
            ? $"{domain.Name} came from {target.Name} at {move.EndedAt:O}; going back undoes it within its cooldown"
            : "";

    /// <summary>The domain's recent move from <paramref name="target"/> to where it runs, still within its cooldown.</summary>
    private static RecentMove? Undone(PlanningContext context, DomainView domain, HostView target)
    {
        var moves = context.RecentMovesOf(domain.Name);
        if (moves.Count == 0)
        {
            return null;
        }
        var cooldown = Gates.Cooldown(context.Input.History.GetValueOrDefault(domain.Name), context.Policy);
        for (var i = moves.Count - 1; i >= 0; i--)
        {
            var move = moves[i];
            if (move.Source == target.Name && move.Target == domain.Host && move.EndedAt + cooldown > context.Input.Now)
            {
                return move;
            }
        }
        return null;
    }
}
