namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>A domain-host rule's <c>must</c> (hard: the domain moves only to one of its hosts) or <c>should</c> (soft:
/// another host costs a penalty). One instance checks each.</summary>
internal sealed class RunOn(bool hard) : ITargetRule
{
    public string Name => hard ? "must_run_on" : "should_run_on";

    public bool Hard => hard;

    public string? Blocks(PlanningContext context, DomainView domain, HostView target, MigrationPlan move)
    {
        var hosts = context.Rules.DomainHostOf(domain.Name) is { } rule ? (hard ? rule.Must : rule.Should) : [];
        return hosts.Count > 0 && !hosts.Contains(target.Name)
            ? $"{domain.Name} {(hard ? "must" : "should")} run on {string.Join(", ", hosts)}"
            : null;
    }
}
