namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>A domain-host rule's <c>never</c> (hard): the domain is never moved to these hosts.</summary>
internal sealed class NeverOn : ITargetRule
{
    public string Name => "never_on";

    public bool Hard => true;

    public bool Rejects(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
        context.Rules.DomainHostOf(domain.Name) is { } rule && rule.Never.Contains(target.Name);

    public string Reason(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
        $"{domain.Name} never runs on {target.Name}";
}
