using Loadshift.Rebalancer.Planning;
using Loadshift.Simulator.Policies;
using Loadshift.Simulator.Simulation;

namespace Loadshift.Simulator.Tests;

/// <summary>Each policy on a case small enough to work out by hand (the comments do). Hosts of 4 CPUs, a 60 s
/// trace step, the alert evaluated every 60 s (one tick per step; the busy ratio's 1m window is the tick before).</summary>
public sealed class PolicyTests
{
    private const string ThreeHosts = """
        hosts:
          - name: hv1
            cpuCapacity: 4
          - name: hv2
            cpuCapacity: 4
          - name: hv3
            cpuCapacity: 4
        """;

    private static double[][] Constant(int steps, params double[] cores) => [.. Enumerable.Range(0, steps).Select(_ => cores)];

    private static List<string> Moves(Scenario scenario, PolicyResult result) =>
        [.. result.Moves.Select(m => $"{m.StartedAt:0} {scenario.Domains[m.Domain]} {scenario.Inventory.Hosts[m.Source].Name}->{scenario.Inventory.Hosts[m.Target].Name}")];

    [Fact]
    public void None_moves_nothing_and_counts_the_overload_and_the_unserved_work()
    {
        // One host of 4 CPUs asked for 6 cores for 10 minutes: always over, 2 cores unserved for 600 s.
        var scenario = Repo.Scenario("hosts:\n  - name: hv1\n    cpuCapacity: 4\n", [("a", "hv1", 0)], Constant(10, 6));
        var result = Simulation.Simulator.Run(scenario, [new NonePolicy()]).Single();
        Assert.Equal((0, 1.0, 1200.0), (result.Migrations, result.OverloadTimeFraction, result.UnservedCoreSeconds));
    }

    [Fact]
    public void Loadshift_relieves_the_host_once_the_alert_fired_with_the_lightest_domain_that_brings_it_under()
    {
        // hv1: a 1.0 + b 2.0 + c 0.6 = 3.6 cores, 0.90 busy. The ratio exists from t=60 (pending), the alert's 2m `for`
        // has it firing at t=180. Moving c (0.15) leaves 0.75 < 0.80, so c is the lightest relieving domain; hv2 and
        // hv3 tie at 0 and hv2 comes first in the inventory.
        var scenario = Repo.Scenario(ThreeHosts, [("a", "hv1", 0), ("b", "hv1", 0), ("c", "hv1", 0)], Constant(10, 1.0, 2.0, 0.6));
        var result = Simulation.Simulator.Run(scenario, [new LoadshiftPolicy(scenario.Policy, scenario.Start)]).Single();
        Assert.Equal(["180 c hv1->hv2"], Moves(scenario, result));
        // hv1 over 0.80 in the ticks at 0, 60, 120 and 180 (c still in flight): 4 of 30 host-ticks.
        Assert.Equal(4.0 / 30, result.OverloadTimeFraction, 6);
        Assert.Equal((0, 0, 0), (result.HardRuleViolations, result.MovesUndone, result.MovesNotHelped));
    }

    [Fact]
    public void Loadshift_relieves_a_host_over_its_memory_watermark_with_the_cheapest_domain_that_brings_it_under()
    {
        // hv1 gives domains 10 GiB and holds 9.5 (0.95, over 0.90): moving b (1 GiB) leaves 0.85, the cheapest that
        // relieves it (a, 0.5 GiB, leaves 0.90, not under, and gains under policy.minGain; c, 8 GiB, more to copy). CPU stays
        // low: no CPU relief.
        const long Gib = 1L << 30;
        var scenario = Repo.Scenario("""
            hosts:
              - name: hv1
                cpuCapacity: 4
                memoryBytes: 10737418240
              - name: hv2
                cpuCapacity: 4
                memoryBytes: 10737418240
            """, [("a", "hv1", Gib / 2), ("b", "hv1", Gib), ("c", "hv1", 8 * Gib)], Constant(5, 0.2, 0.2, 0.2));
        var policy = new LoadshiftPolicy(scenario.Policy, scenario.Start);
        var result = Simulation.Simulator.Run(scenario, [policy]).Single();
        // At 0 there is no busy ratio yet (no target takes anything without one); at 60 the relief.
        Assert.Equal(["60 b hv1->hv2"], Moves(scenario, result));
        Assert.Equal((DecisionKind.MemoryRelief, Reasons.MemoryHigh), (policy.Decisions[^1].Decision.Kind, policy.Decisions[^1].Decision.Reason));
    }

    private const string ThreeHostsApart = ThreeHosts + """

        rules:
          antiAffinity:
            - name: pair
              domains: [c, d]
        """;

    [Fact]
    public void Loadshift_keeps_a_hard_anti_affinity_group_apart_and_counts_no_violation()
    {
        // The case above with d (no load) on hv2 and c and d in a hard anti-affinity group: hv2 and hv3 tie at 0, but
        // hv2 holds d, so c goes to hv3.
        var scenario = Repo.Scenario(ThreeHostsApart, [("a", "hv1", 0), ("b", "hv1", 0), ("c", "hv1", 0), ("d", "hv2", 0)],
            Constant(10, 1.0, 2.0, 0.6, 0.0));
        var result = Simulation.Simulator.Run(scenario, [new LoadshiftPolicy(scenario.Policy, scenario.Start)]).Single();
        Assert.Equal(["180 c hv1->hv3"], Moves(scenario, result));
        Assert.Equal(0, result.HardRuleViolations);
    }

    [Fact]
    public void A_policy_that_ignores_the_rules_is_counted_for_each_move_that_breaks_a_hard_one()
    {
        // The seed's first move sends the busiest domain of hv1 to hv2: with c (hv1's busiest, 2.0) and d (on hv2)
        // kept apart by a hard group, that move breaks it. b follows to hv3 and breaks nothing; every later move of
        // c back to hv2 breaks it again.
        var scenario = Repo.Scenario(ThreeHostsApart, [("b", "hv1", 0), ("c", "hv1", 0), ("d", "hv2", 0)], Constant(10, 1.6, 2.0, 0.0));
        var result = Simulation.Simulator.Run(scenario, [new SeedPolicy(0.80, TimeSpan.FromMinutes(1))]).Single();
        var toHv2 = Moves(scenario, result).Count(m => m.EndsWith(" c hv1->hv2", StringComparison.Ordinal));
        Assert.StartsWith("60 c hv1->hv2", Moves(scenario, result)[0], StringComparison.Ordinal);
        Assert.True(toHv2 >= 1);
        Assert.Equal(toHv2, result.HardRuleViolations);
    }

    [Fact]
    public void Loadshift_does_not_move_before_the_alerts_for_has_passed()
    {
        // The same load for 3 minutes only: pending at 60 and 120, firing would be at 180, after the trace.
        var scenario = Repo.Scenario(ThreeHosts, [("a", "hv1", 0), ("b", "hv1", 0), ("c", "hv1", 0)], Constant(3, 1.0, 2.0, 0.6));
        var result = Simulation.Simulator.Run(scenario, [new LoadshiftPolicy(scenario.Policy, scenario.Start)]).Single();
        Assert.Empty(result.Moves);
    }

    [Fact]
    public void Seed_moves_the_busiest_to_the_second_host_then_the_third_and_back_as_soon_as_the_host_is_under()
    {
        // hv1: a 2.0 + b 1.6 = 0.90. t=60: over, a (busiest) to hv2. t=120: the ratio covers [60,120) with a still
        // counted (in flight at the tick): over, b to hv3 (hv2 holds a). t=180: [120,180) had a gone and b leaving
        // (0.40): under, b (last moved) back. t=240: hv1 0.40 again: a back. Then it starts over: the seed's bounce.
        var scenario = Repo.Scenario(ThreeHosts, [("a", "hv1", 0), ("b", "hv1", 0)], Constant(10, 2.0, 1.6));
        var result = Simulation.Simulator.Run(scenario, [new SeedPolicy(0.80, TimeSpan.FromMinutes(1))]).Single();
        var moves = Moves(scenario, result);
        Assert.Equal(["60 a hv1->hv2", "120 b hv1->hv3", "180 b hv3->hv1", "240 a hv2->hv1", "300 a hv1->hv2"], moves.Take(5));
        Assert.Equal(9, result.Migrations);
        // Every move after the first two sends a domain back where the one before took it from.
        Assert.Equal(7, result.MovesUndone);
    }

    [Fact]
    public void ProxLb_moves_from_the_most_to_the_least_used_host_until_the_spread_is_within_the_balanciness()
    {
        // hv1 a 1.2 + b 0.8 + c 0.5 = 0.625, hv2 d 0.4 = 0.10: spread 0.525. Moving a leaves 0.325 / 0.40 (spread 0.075),
        // b 0.425 / 0.30 (0.125), c 0.50 / 0.225 (0.275). One move, a, then the spread 0.075 is within 0.10.
        var scenario = Repo.Scenario("hosts:\n  - name: hv1\n    cpuCapacity: 4\n  - name: hv2\n    cpuCapacity: 4\n",
            [("a", "hv1", 0), ("b", "hv1", 0), ("c", "hv1", 0), ("d", "hv2", 0)], Constant(10, 1.2, 0.8, 0.5, 0.4));
        var result = Simulation.Simulator.Run(scenario, [new ProxLbPolicy(TimeSpan.FromHours(1), 0.10, 1)]).Single();
        Assert.Equal(["60 a hv1->hv2"], Moves(scenario, result));
    }

    [Fact]
    public void Descheduler_moves_from_hosts_over_the_target_to_hosts_under_the_low_threshold_busiest_first()
    {
        // hv1 a 2.0 + b 1.2 + c 0.4 = 0.90 (over 0.80), hv2 d 1.0 = 0.25 (under 0.50), hv3 e 2.4 = 0.60 (neither).
        // a first: hv2 would reach 0.75 <= 0.80, hv1 falls to 0.40: done. hv3 receives nothing (not underused).
        var scenario = Repo.Scenario(ThreeHosts, [("a", "hv1", 0), ("b", "hv1", 0), ("c", "hv1", 0), ("d", "hv2", 0), ("e", "hv3", 0)],
            Constant(10, 2.0, 1.2, 0.4, 1.0, 2.4));
        var result = Simulation.Simulator.Run(scenario, [new DeschedulerPolicy(TimeSpan.FromMinutes(5), 0.50, 0.80, 1)]).Single();
        Assert.Equal(["60 a hv1->hv2"], Moves(scenario, result));
    }

    [Fact]
    public void A_move_that_overcommits_memory_or_moves_a_pinned_domain_breaks_a_hard_rule()
    {
        // The seed checks nothing: a (pinned, 3 GiB) goes to hv2, which has 2 GiB.
        var scenario = Repo.Scenario("pinned: [a]\nhosts:\n  - name: hv1\n    cpuCapacity: 4\n  - name: hv2\n    cpuCapacity: 4\n    memoryBytes: 2147483648\n",
            [("a", "hv1", 3L << 30)], Constant(2, 3.8));
        var result = Simulation.Simulator.Run(scenario, [new SeedPolicy(0.80, TimeSpan.FromMinutes(1))]).Single();
        Assert.Equal("60 a hv1->hv2", Moves(scenario, result)[0]);
        Assert.Equal(1, result.HardRuleViolations);
        // The Rebalancer's planner refuses both: its alert fires at 180, and no move follows.
        var longer = Repo.Scenario("pinned: [a]\nhosts:\n  - name: hv1\n    cpuCapacity: 4\n  - name: hv2\n    cpuCapacity: 4\n    memoryBytes: 2147483648\n",
            [("a", "hv1", 3L << 30)], Constant(10, 3.8));
        var policy = new LoadshiftPolicy(longer.Policy, longer.Start);
        var loadshift = Simulation.Simulator.Run(longer, [policy]).Single();
        Assert.Empty(loadshift.Moves);
        Assert.Contains(policy.Decisions, d => d.Decision.Reason == "no_movable_domain");
    }

    [Fact]
    public void A_trace_step_shorter_than_the_evaluation_interval_is_refused_with_what_to_do()
    {
        var scenario = Repo.Scenario("hosts:\n  - name: hv1\n    cpuCapacity: 4\n", [("a", "hv1", 0)], Constant(3, 1.0), stepSeconds: 30);
        var e = Assert.Throws<Inputs.InputException>(() => Simulation.Simulator.Run(scenario, [new NonePolicy()]));
        Assert.Equal("the trace's step (30 s) is not a multiple of the evaluation interval (60 s): give --evaluation-interval 30s, or a trace with longer steps", e.Message);
    }
}
