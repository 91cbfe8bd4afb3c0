namespace Loadshift.Rebalancer.Planning.Strategies;

/// <summary>What the strategies say alike.</summary>
internal static class Strategy
{
    /// <summary>The soft rules a chosen move breaks, for the decision's detail; empty when none.</summary>
    public static string SoftNote(Candidate chosen) =>
        chosen.SoftBroken.Count == 0 ? "" : $"; breaks soft rule(s): {string.Join("; ", chosen.SoftBroken)}";

    /// <summary>Costs this close are a tie: a guest's current memory moves by a few pages between two looks, and the
    /// choice should then follow the load moved, not the noise.</summary>
    internal const double CostTieTolerance = 0.05;

    /// <summary>Among the moves that relieve a host: the fewest soft rules broken, then the cheapest (costs within
    /// <see cref="CostTieTolerance"/> of the cheapest are a tie), then the lightest domain; null for none.</summary>
    public static Candidate? Cheapest(List<Candidate> relieving)
    {
        if (relieving.Count == 0)
        {
            return null;
        }
        var penalty = relieving.Min(c => c.Penalty);
        var cost = relieving.Where(c => c.Penalty == penalty).Min(c => c.Plan.CostBytes);
        Candidate? chosen = null;
        foreach (var candidate in relieving)
        {
            if (candidate.Penalty == penalty && candidate.Plan.CostBytes <= cost * (1 + CostTieTolerance)
                && (chosen is null || ReliefStrategy.Lighter(candidate.Plan, chosen.Plan)))
            {
                chosen = candidate;
            }
        }
        return chosen;
    }
}
