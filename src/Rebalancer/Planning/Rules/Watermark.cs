namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>The target's predicted busy ratio must stay under a watermark. The high one for relief and drain, so the
/// domain is not bounced back (oVirt's rule). The low one for a return home: on the lab (`lab/demo --fast`) vm3 came
/// home to hv1 at 0.40 with its load still on, hv1 went straight back to 0.80 and HypervisorCpuHigh was pending again
/// (issue 12, item 6).</summary>
internal sealed class Watermark(bool low) : ITargetRule
{
    public string Name => low ? "low_watermark" : "high_watermark";

    public bool Hard => true;

    public bool Rejects(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
        !(targetBusyAfter < Mark(context));

    public string Reason(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
        $"{target.Name} would reach {Planner.F(targetBusyAfter)}, not under{(low ? " the low watermark" : "")} {Planner.F(Mark(context))}";

    private double Mark(PlanningContext context) => low ? context.Policy.LowWatermark : context.Policy.HighWatermark;
}
