namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>The target's predicted busy ratio must stay under a watermark. The high one for relief and drain, so the
/// domain is not bounced back (oVirt's rule). The low one for a return home: on the lab (`lab/demo --fast`) vm3 came
/// home to hv1 at 0.40 with its load still on, hv1 went straight back to 0.80 and HypervisorCpuHigh was pending again
/// (issue 12, item 6).</summary>
internal sealed class Watermark(bool low) : ITargetRule
{
    public string Name => low ? "low_watermark" : "high_watermark";

    public bool Hard => true;

    public string? Blocks(PlanningContext context, DomainView domain, HostView target, MigrationPlan move)
    {
        var mark = low ? context.Policy.LowWatermark : context.Policy.HighWatermark;
        return move.TargetBusyAfter < mark
            ? null
            : $"{target.Name} would reach {Planner.F(move.TargetBusyAfter)}, not under{(low ? " the low watermark" : "")} {Planner.F(mark)}";
    }
}
