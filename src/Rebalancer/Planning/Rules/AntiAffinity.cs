namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>Members of an anti-affinity group run on different hosts: the target must hold no other member.
/// One instance checks the hard groups, one the soft ones.</summary>
internal sealed class AntiAffinity(bool hard) : ITargetRule
{
    public string Name => hard ? "anti_affinity" : "anti_affinity_soft";

    public bool Hard => hard;

    public bool Rejects(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
        Together(context, domain, target).Group is not null;

    public string Reason(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter)
    {
        var (group, member) = Together(context, domain, target);
        return $"{target.Name} holds {member} of anti-affinity group {group?.Name}";
    }

    /// <summary>The first group of this hardness with another member on <paramref name="target"/>, and that member.</summary>
    private (DomainGroup? Group, string? Member) Together(PlanningContext context, DomainView domain, HostView target)
    {
        foreach (var group in context.Rules.AntiAffinityOf(domain.Name))
        {
            if (group.Hard == hard && context.Rules.FirstMemberOn(group, domain.Name, target.Name) is { } member)
            {
                return (group, member);
            }
        }
        return (null, null);
    }
}
