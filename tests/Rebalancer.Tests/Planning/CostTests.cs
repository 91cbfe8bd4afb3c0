using Loadshift.Rebalancer.Planning;

namespace Loadshift.Rebalancer.Tests.Planning;

/// <summary>What a move costs and what it is worth (issue 12, item 4): among the moves that bring a host under its
/// watermark the cheapest (bytes to copy) wins; a move that gains less than policy.minGain is not made; the decision
/// carries both.</summary>
public sealed class CostTests
{
    private const long Gib = 1L << 30;

    [Fact]
    public void Among_relieving_moves_the_cheapest_wins_over_the_lightest()
    {
        // vm2 (0.29) and vm1 (0.30) both bring hv1 under 0.80; vm2 has 6 GiB to copy, vm1 1 GiB.
        var input = new Fixture().Host("hv1", 0.93).Host("hv2", 0.04, memory: 16 * Gib).Host("hv3", 0.05, memory: 16 * Gib)
            .Domain("vm1", "hv1", 0.30).Domain("vm2", "hv1", 0.29, memory: 6 * Gib).Input();

        var decision = Planner.PlanRelief(input, "hv1");

        Assert.Equal("vm1", decision.Migration!.Domain);
        Assert.Equal(Gib, decision.Migration.CostBytes);
        Assert.Contains("the cheapest move that brings it under the high watermark", decision.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_guest_that_dirties_its_memory_costs_more()
    {
        // Equal memory; vm2 dirties 0.5 GB/s at 1 GB/s of copy: 2 GiB copied in all, so vm1 (heavier) wins.
        var input = new Fixture().Host("hv1", 0.93).Host("hv2", 0.04).Host("hv3", 0.05)
            .Domain("vm1", "hv1", 0.30).Domain("vm2", "hv1", 0.29, dirtyBytesPerSecond: 0.5e9).Input();

        var vm2 = Planner.PlanRelief(input with { Domains = [.. input.Domains.Where(d => d.Name == "vm2")] }, "hv1").Migration!;
        Assert.Equal(2 * Gib, vm2.CostBytes);
        Assert.Equal(2 * Gib / 1e9, vm2.CostSeconds, 9);
        Assert.Equal("vm1", Planner.PlanRelief(input, "hv1").Migration!.Domain);
    }

    [Fact]
    public void Costs_within_five_percent_are_a_tie_won_by_the_lighter_domain()
    {
        var input = new Fixture().Host("hv1", 0.93).Host("hv2", 0.04).Host("hv3", 0.05)
            .Domain("vm1", "hv1", 0.30, memory: Gib).Domain("vm2", "hv1", 0.29, memory: Gib + (40L << 20)).Input();

        Assert.Equal("vm2", Planner.PlanRelief(input, "hv1").Migration!.Domain);
    }

    [Fact]
    public void A_move_that_gains_less_than_the_margin_is_not_made()
    {
        // hv1 at 0.83: only vm1 (0.03) can move; the higher busy ratio of the two hosts falls by 0.03 < 0.05.
        var input = new Fixture().Host("hv1", 0.83).Host("hv2", 0.04).Domain("vm1", "hv1", 0.03).Domain("big", "hv1", 0.80, pinned: true).Input();

        var decision = Planner.PlanRelief(input, "hv1");

        Assert.Equal(Reasons.SmallGain, decision.Reason);
        Assert.Contains("vm1: gains at most 0.03, under policy.minGain 0.05", decision.Detail, StringComparison.Ordinal);

        var lower = input with { Policy = input.Policy with { MinGain = 0.02 } };
        Assert.Equal(0.03, Planner.PlanRelief(lower, "hv1").Migration!.Gain, 9);
    }

    [Fact]
    public void The_gain_is_how_much_the_higher_of_the_two_busy_ratios_falls()
    {
        // Seed: vm2 to hv2: hv1 0.93 -> 0.64, hv2 0.04 -> 0.33: the higher falls from 0.93 to 0.64.
        var move = Planner.PlanRelief(Fixture.Seed().Input(), "hv1").Migration!;

        Assert.Equal(0.93 - 0.64, move.Gain, 9);
    }
}
