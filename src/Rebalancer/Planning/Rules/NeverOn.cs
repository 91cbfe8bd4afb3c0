namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>A domain-host rule's <c>never</c> (hard): the domain is never moved to these hosts.</summary>
internal sealed class NeverOn : ITargetRule
{
    public string Name => "never_on";

    public bool Hard => true;

    public string? Blocks(PlanningContext context, DomainView domain, HostView target, MigrationPlan move) =>
        context.Rules.DomainHostOf(domain.Name) is { } rule && rule.Never.Contains(target.Name)
            ? $"{domain.Name} never runs on {target.Name}"
            : null;
}
