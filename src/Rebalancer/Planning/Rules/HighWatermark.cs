namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>The target's predicted busy ratio must stay under the high watermark, so the domain is not bounced back
/// (oVirt's rule).</summary>
internal sealed class HighWatermark : ITargetRule
{
    public string Name => "high_watermark";

    public bool Hard => true;

    public string? Blocks(PlanningContext context, DomainView domain, HostView target, MigrationPlan move) =>
        move.TargetBusyAfter < context.Policy.HighWatermark
            ? null
            : $"{target.Name} would reach {Planner.F(move.TargetBusyAfter)}, not under {Planner.F(context.Policy.HighWatermark)}";
}
