namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>A host in maintenance is drained and receives nothing.</summary>
internal sealed class InMaintenance : ITargetRule
{
    public string Name => "maintenance";

    public bool Hard => true;

    public bool Rejects(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) => target.Maintenance;

    public string Reason(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
        $"{target.Name} is in maintenance";
}
