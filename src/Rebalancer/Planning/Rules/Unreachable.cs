namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>libvirt on the target did not answer in this snapshot.</summary>
internal sealed class Unreachable : ITargetRule
{
    public string Name => "host_unreachable";

    public bool Hard => true;

    public bool Rejects(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) => !target.Reachable;

    public string Reason(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
        $"libvirt on {target.Name} does not answer";
}
