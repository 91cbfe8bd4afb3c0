namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>A host in maintenance is drained and receives nothing.</summary>
internal sealed class InMaintenance : ITargetRule
{
    public string Name => "maintenance";

    public bool Hard => true;

    public string? Blocks(PlanningContext context, DomainView domain, HostView target, MigrationPlan move) =>
        target.Maintenance ? $"{target.Name} is in maintenance" : null;
}
