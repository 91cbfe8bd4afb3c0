namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>Members of an affinity group are kept together where possible (soft): a target that holds none of the other
/// running members costs a penalty.</summary>
internal sealed class Affinity : ITargetRule
{
    public string Name => "affinity";

    public bool Hard => false;

    public bool Rejects(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
        Apart(context, domain, target) is not null;

    public string Reason(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
        $"{target.Name} holds no other member of affinity group {Apart(context, domain, target)?.Name}";

    /// <summary>The first group whose other members run, none of them on <paramref name="target"/>.</summary>
    private static DomainGroup? Apart(PlanningContext context, DomainView domain, HostView target)
    {
        foreach (var group in context.Rules.AffinityOf(domain.Name))
        {
            if (context.Rules.AnyMemberRunning(group, domain.Name) && context.Rules.FirstMemberOn(group, domain.Name, target.Name) is null)
            {
                return group;
            }
        }
        return null;
    }
}
