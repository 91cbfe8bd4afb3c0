namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>A domain-host rule's <c>must</c> (hard: the domain moves only to one of its hosts) or <c>should</c> (soft:
/// another host costs a penalty). One instance checks each.</summary>
internal sealed class RunOn(bool hard) : ITargetRule
{
    private static readonly IReadOnlyList<string> Anywhere = [];

    public string Name => hard ? "must_run_on" : "should_run_on";

    public bool Hard => hard;

    public bool Rejects(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter)
    {
        var hosts = Hosts(context, domain);
        return hosts.Count > 0 && !hosts.Contains(target.Name);
    }

    public string Reason(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
        $"{domain.Name} {(hard ? "must" : "should")} run on {string.Join(", ", Hosts(context, domain))}";

    private IReadOnlyList<string> Hosts(PlanningContext context, DomainView domain) =>
        context.Rules.DomainHostOf(domain.Name) is { } rule ? (hard ? rule.Must : rule.Should) : Anywhere;
}
