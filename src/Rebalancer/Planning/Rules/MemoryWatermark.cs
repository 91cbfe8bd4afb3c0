namespace Loadshift.Rebalancer.Planning.Rules;

/// <summary>The target's memory share after the move (of its own memory) must stay under policy.memoryHighWatermark:
/// a host of 64 GiB and one of 256 GiB compare by share, not by bytes (gyptazy/ProxLB#250). Unknown memory passes (the
/// memory fit, <see cref="MemoryFit"/>, still applies).</summary>
internal sealed class MemoryWatermark : ITargetRule
{
    public string Name => "memory_high_watermark";

    public bool Hard => true;

    public bool Rejects(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
        context.MemoryShareWith(target, domain) is double after && !(after < context.Policy.MemoryHighWatermark);

    public string Reason(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
        $"{target.Name}'s memory would reach {Planner.F(context.MemoryShareWith(target, domain) ?? 0)}, not under {Planner.F(context.Policy.MemoryHighWatermark)}";
}
