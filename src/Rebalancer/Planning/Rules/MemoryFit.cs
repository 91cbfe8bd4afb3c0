namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>The domain's memory must fit in what the target has available and in what the inventory gives it.</summary>
internal sealed class MemoryFit : ITargetRule
{
    public string Name => "memory";

    public bool Hard => true;

    public bool Rejects(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
        !context.MemoryFits(target, domain);

    public string Reason(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
        $"{domain.Name}'s memory does not fit on {target.Name}";
}
