namespace Loadshift.Rebalancer.Planning.Strategies;

/// <summary>What the strategies say alike.</summary>
internal static class Strategy
{
    /// <summary>The soft rules a chosen move breaks, for the decision's detail; empty when none.</summary>
    public static string SoftNote(Candidate chosen) =>
        chosen.SoftBroken.Count == 0 ? "" : $"; breaks soft rule(s): {string.Join("; ", chosen.SoftBroken)}";
}
