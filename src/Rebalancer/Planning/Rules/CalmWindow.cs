namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>A domain goes home only once its home host stayed under the low watermark for policy.returnHomeAfter.</summary>
internal sealed class CalmWindow : ITargetRule
{
    public string Name => "calm_window";

    public bool Hard => true;

    public string? Blocks(PlanningContext context, DomainView domain, HostView target, MigrationPlan move)
    {
        var low = context.Policy.LowWatermark;
        if (target.BusyRatio is null || target.CalmWindowMaxBusyRatio is not double calmMax)
        {
            return $"no busy ratio for {target.Name}";
        }
        return calmMax >= low
            ? $"{target.Name} reached {Planner.F(calmMax)} within the calm window, not under the low watermark {Planner.F(low)}"
            : null;
    }
}
