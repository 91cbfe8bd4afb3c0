namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>Without a busy ratio there is no prediction.</summary>
internal sealed class NoMetrics : ITargetRule
{
    public string Name => "no_metrics";

    public bool Hard => true;

    public bool Rejects(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) => target.BusyRatio is null;

    public string Reason(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
        $"no busy ratio for {target.Name}";
}
