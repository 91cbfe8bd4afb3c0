namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>Without a busy ratio there is no prediction.</summary>
internal sealed class NoMetrics : ITargetRule
{
    public string Name => "no_metrics";

    public bool Hard => true;

    public string? Blocks(PlanningContext context, DomainView domain, HostView target, MigrationPlan move) =>
        target.BusyRatio is null ? $"no busy ratio for {target.Name}" : null;
}
