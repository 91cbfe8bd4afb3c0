namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>Members of an anti-affinity group run on different hosts: the target must hold no other member.
/// One instance checks the hard groups, one the soft ones.</summary>
internal sealed class AntiAffinity(bool hard) : ITargetRule
{
    public string Name => hard ? "anti_affinity" : "anti_affinity_soft";

    public bool Hard => hard;

    public string? Blocks(PlanningContext context, DomainView domain, HostView target, MigrationPlan move)
    {
        foreach (var group in context.Rules.AntiAffinityOf(domain.Name))
        {
            if (group.Hard == hard && context.Rules.MembersOn(group, domain.Name, target.Name).FirstOrDefault() is { } member)
            {
                return $"{target.Name} holds {member} of anti-affinity group {group.Name}";
            }
        }
        return null;
    }
}
