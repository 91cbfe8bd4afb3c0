namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>libvirt on the target did not answer in this snapshot.</summary>
internal sealed class Unreachable : ITargetRule
{
    public string Name => "host_unreachable";

    public bool Hard => true;

    public string? Blocks(PlanningContext context, DomainView domain, HostView target, MigrationPlan move) =>
        target.Reachable ? null : $"libvirt on {target.Name} does not answer";
}
