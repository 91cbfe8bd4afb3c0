using Loadshift.Rebalancer.Planning;

namespace Loadshift.Rebalancer.Tests.Planning;

/// <summary>Memory as a dimension (issue 12, item 3): no target passes policy.memoryHighWatermark after a move, hosts of
/// different sizes compare by the share of their own memory, and a memory relief moves the domain that brings its host
/// under the mark most cheaply.</summary>
public sealed class MemoryTests
{
    private const long Gib = 1L << 30;

    [Fact]
    public void No_target_passes_the_memory_watermark_measured_as_a_share_of_its_own_memory()
    {
        // vm2 (4 GiB current) from hv1. hv2 (16 GiB, 11 used: 0.69) would reach 0.94; hv3 (64 GiB, 52 used: 0.81) only 0.875.
        // In bytes hv2 has less free memory than hv3; by share it is hv3 that stays under 0.90.
        var input = new Fixture()
            .Host("hv1", 0.93, memory: 0).Host("hv2", 0.04, memory: 0, total: 16 * Gib, available: 5 * Gib)
            .Host("hv3", 0.30, memory: 0, total: 64 * Gib, available: 12 * Gib)
            .Domain("vm1", "hv1", 0.45, memory: 4 * Gib).Domain("vm2", "hv1", 0.29, memory: 4 * Gib).Input();

        var decision = Planner.PlanRelief(input, "hv1");

        Assert.Equal(("vm2", "hv3"), (decision.Migration!.Domain, decision.Migration.Target));
        Assert.Equal(0.875, decision.Migration.TargetMemoryAfter!.Value, 9);
        var rejection = Assert.Single(decision.Rejected!, r => r.Domain == "vm2" && r.Target == "hv2");
        Assert.Equal("memory_high_watermark", rejection.Rule);
        Assert.Equal("hv2's memory would reach 0.94, not under 0.90", rejection.Reason);
    }

    [Fact]
    public void Without_measured_memory_the_inventory_share_counts()
    {
        // hv2 gives domains 8 GiB and holds 6: vm2's 1 GiB would take it to 0.875 (fits), 2 GiB to 1.0 (rejected, 0.90);
        // with every vm at 2 GiB, vm2 is still the lightest of equal cost.
        var input = Fixture.Seed().Domain("big", "hv2", 0.01, memory: 6 * Gib).Input();
        var heavier = input with { Domains = [.. input.Domains.Select(d => d.Name.StartsWith("vm", StringComparison.Ordinal) ? d with { MemoryBytes = 2 * Gib } : d)] };

        Assert.Equal(("vm2", "hv2"), (Planner.PlanRelief(input, "hv1").Migration!.Domain, Planner.PlanRelief(input, "hv1").Migration!.Target));
        Assert.Equal(("vm2", "hv3"), (Planner.PlanRelief(heavier, "hv1").Migration!.Domain, Planner.PlanRelief(heavier, "hv1").Migration!.Target));
    }

    [Fact]
    public void Memory_relief_moves_the_cheapest_domain_that_brings_the_host_under_the_mark()
    {
        // hv1: 16 GiB, 15.2 used (0.95). vm1 (1 GiB) takes it to 0.89, vm2 (3 GiB) to 0.76, vm3 (0.5 GiB) to 0.92: vm1 is
        // the cheapest that relieves it, though vm3 is cheaper and vm2 frees more.
        var input = new Fixture()
            .Host("hv1", 0.40, memory: 0, total: 16 * Gib, available: (long)(0.8 * Gib))
            .Host("hv2", 0.10, memory: 0, total: 16 * Gib, available: 10 * Gib)
            .Domain("vm1", "hv1", 0.10, memory: Gib).Domain("vm2", "hv1", 0.10, memory: 3 * Gib).Domain("vm3", "hv1", 0.10, memory: Gib / 2).Input();

        var decision = Planner.PlanMemoryRelief(input, "hv1");

        Assert.Equal((DecisionKind.MemoryRelief, Reasons.MemoryHigh), (decision.Kind, decision.Reason));
        Assert.Equal(("vm1", "hv2"), (decision.Migration!.Domain, decision.Migration.Target));
        Assert.Equal(0.95, decision.Migration.SourceMemoryBefore!.Value, 9);
        Assert.Equal(0.95 - 0.0625, decision.Migration.SourceMemoryAfter!.Value, 9);
        // The gain is in memory shares: the higher of the two (hv1) falls from 0.95 to 0.8875.
        Assert.Equal(0.0625, decision.Migration.Gain, 9);
        Assert.Contains("the cheapest move that brings its memory under the mark", decision.Detail, StringComparison.Ordinal);
        // Explained (GET /api/v1/decisions/{id}): each domain's best move with its predicted memory, the chosen one marked;
        // vm3 frees 0.03 at most, under policy.minGain: it is not weighed against the targets (as a domain a rule keeps in
        // place, a move's explanation leaves it out; a no-action's detail names it).
        Assert.Equal(["vm1 hv2 0.89 chosen", "vm2 hv2 0.76"],
            decision.Considered!.Select(c => $"{c.Plan.Domain} {c.Plan.Target} {c.Plan.SourceMemoryAfter:0.00}{(c.Chosen ? " chosen" : "")}"));
    }

    [Fact]
    public void Memory_relief_with_only_domains_too_small_to_gain_the_margin_does_nothing_and_says_so()
    {
        // hv1 at 0.95 of 16 GiB: vm1 and vm2 (0.5 GiB each) would free 0.03 apiece, under policy.minGain (0.05).
        var input = new Fixture()
            .Host("hv1", 0.40, memory: 0, total: 16 * Gib, available: (long)(0.8 * Gib))
            .Host("hv2", 0.10, memory: 0, total: 16 * Gib, available: 10 * Gib)
            .Domain("vm1", "hv1", 0.10, memory: Gib / 2).Domain("vm2", "hv1", 0.10, memory: Gib / 2).Input();

        var decision = Planner.PlanMemoryRelief(input, "hv1");

        Assert.Equal((DecisionOutcome.NoAction, Reasons.SmallGain), (decision.Outcome, decision.Reason));
        Assert.Contains("vm1: frees at most 0.03 of memory, under policy.minGain 0.05", decision.Detail, StringComparison.Ordinal);
        Assert.Contains("vm2: frees at most 0.03 of memory", decision.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Memory_relief_of_a_host_under_the_mark_does_nothing()
    {
        var input = new Fixture().Host("hv1", 0.40, memory: 0, total: 16 * Gib, available: 8 * Gib).Host("hv2", 0.10)
            .Domain("vm1", "hv1", 0.10).Input();

        var decision = Planner.PlanMemoryRelief(input, "hv1");

        Assert.Equal(Reasons.MemoryNotHigh, decision.Reason);
        Assert.Equal("hv1 memory 0.50 is not above the memory high watermark 0.90", decision.Detail);
    }

    [Fact]
    public void Memory_relief_holds_to_the_cpu_watermark_of_the_target()
    {
        // hv2 has the memory but would pass 0.80 busy with vm1's load: no move.
        var input = new Fixture()
            .Host("hv1", 0.40, memory: 0, total: 16 * Gib, available: (long)(0.8 * Gib))
            .Host("hv2", 0.70, memory: 0, total: 16 * Gib, available: 10 * Gib)
            .Domain("vm1", "hv1", 0.30, memory: 2 * Gib).Input();

        var decision = Planner.PlanMemoryRelief(input, "hv1");

        Assert.Equal(Reasons.NoTarget, decision.Reason);
        Assert.Contains(decision.Rejected!, r => r is { Domain: "vm1", Target: "hv2", Rule: "high_watermark" });
    }
}
