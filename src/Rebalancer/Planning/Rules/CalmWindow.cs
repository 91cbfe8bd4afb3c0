namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>A domain goes home only once its home host stayed under the low watermark for policy.returnHomeAfter.</summary>
internal sealed class CalmWindow : ITargetRule
{
    public string Name => "calm_window";

    public bool Hard => true;

    public bool Rejects(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
        target.BusyRatio is null || target.CalmWindowMaxBusyRatio is not double calmMax || calmMax >= context.Policy.LowWatermark;

    public string Reason(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
        target.BusyRatio is null || target.CalmWindowMaxBusyRatio is not double calmMax
            ? $"no busy ratio for {target.Name}"
            : $"{target.Name} reached {Planner.F(calmMax)} within the calm window, not under the low watermark {Planner.F(context.Policy.LowWatermark)}";
}
