namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>libvirt shows the domain active on a second host (a migration by hand, or started twice): an operator's case.</summary>
internal sealed class SeenTwice : IDomainRule
{
    public string? Blocks(PlanningContext context, DomainView domain) =>
        domain.AlsoOn is { } other ? $"libvirt shows it on {other} too" : null;
}
