namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>Members of an affinity group are kept together where possible (soft): a target that holds none of the other
/// running members costs a penalty.</summary>
internal sealed class Affinity : ITargetRule
{
    public string Name => "affinity";

    public bool Hard => false;

    public string? Blocks(PlanningContext context, DomainView domain, HostView target, MigrationPlan move)
    {
        foreach (var group in context.Rules.AffinityOf(domain.Name))
        {
            if (context.Rules.MembersRunning(group, domain.Name).Any() && !context.Rules.MembersOn(group, domain.Name, target.Name).Any())
            {
                return $"{target.Name} holds no other member of affinity group {group.Name}";
            }
        }
        return null;
    }
}
